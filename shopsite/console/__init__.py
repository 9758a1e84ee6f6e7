"""The staff side beyond the model admins: the bus console and the message trace."""
