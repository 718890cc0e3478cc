"""Text messages to patients' phones (verification codes): the port and its adapters."""
