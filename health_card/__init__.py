"""Electronic health card platform client: no Flask. Built with the health card issue."""
