"""Distributed backends: the same graph and Deployment protocol on other engines."""
