"""botgpt's pure core: the conversation model, its rules and its use cases.

Imports only the standard library, attrs and ``botgpt.ports``.
"""
