"""Email: status updates to the incident mailing list over SMTP."""
