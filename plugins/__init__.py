"""botgpt's plugin system (pluggy project ``botgpt``) and its built-in plugins."""
