"""WooCommerce: connector.py (the Connector), webhooks.py (verify + parse), consts.py."""
