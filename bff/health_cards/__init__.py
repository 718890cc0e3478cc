"""电子健康卡: a card per patient on the health card platform, its dynamic QR code, usage reports."""
