"""Gateway-agnostic payment core (WeChat Pay, Alipay): no Flask. Built with the payments issue."""
