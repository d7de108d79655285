"""The inbox: acknowledged deliveries are stored first and applied by the worker, so none is ever lost."""
