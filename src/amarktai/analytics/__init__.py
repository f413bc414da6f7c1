"""Performance analytics: metrics from equity curves and trades."""
