"""The whole ASGI stack, for socket tests in any app.

Tests reach the top of the house (``rangex.asgi``) through here, so an app's test modules keep to
the layer contract like the app's code: they import only their own app and the layers below it.
"""

from rangex.asgi import application

__all__ = ["application"]
