"""Residual hazard of the register's hazards: the model applied to what the register holds."""
