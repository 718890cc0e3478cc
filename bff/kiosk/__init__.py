"""Hospital kiosks (自助机): device authentication and payment by face."""
