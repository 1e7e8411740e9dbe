"""Relay: incident-response coordination."""
