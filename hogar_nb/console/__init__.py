"""The HOGAR console: a Django site to manage graphs and watch running deployments.

Sign-in for everything, three roles (viewer, operator, admin), versioned graphs with
diagnostics, drawings and diffs, deployments started as supervised ``hogar serve``
processes or registered by URL, live pages streamed over Server-Sent Events, live
reconfiguration through each server's admin API, and an audit log. The console talks
to deployments over HTTP only.

Run it with ``hogar console init``, ``hogar console adduser NAME`` and
``hogar console serve``; nothing here is imported by ``import hogar_nb``.
"""
