"""Plugins that ship with botgpt, registered through the ``botgpt`` entry-point group."""
