"""An Ontraport REST API v1 simulator: a WSGI app over SQLite with messy, deterministic demo data.

The sandbox is the server side of the wire protocol: clients reach it with httpx
(in-process through ``httpx.WSGITransport``, or over loopback HTTP with :func:`serve`)
exactly as they reach ``https://api.ontraport.com/1/``. It imports nothing from the rest
of ``ontraport_pandas``.

>>> import httpx
>>> app = create_app(contacts=100)
>>> client = httpx.Client(
...     transport=httpx.WSGITransport(app=app),
...     base_url="http://sandbox/1/",
...     headers={"Api-Appid": DEMO_APP_ID, "Api-Key": DEMO_API_KEY},
... )
>>> client.get("Contacts/getInfo").json()["data"]["count"]
'100'
>>> app.close()

Modules: ``config`` (settings), ``model`` (types, routes, fields), ``store`` (SQLite),
``conditions`` (the ``condition`` grammar), ``values`` (stored forms of sent values),
``demo`` (demo data), ``handlers`` (endpoints), ``wire`` (HTTP parsing and replies),
``app`` (the WSGI app), ``server`` (loopback serving). ``python -m ontraport_pandas.sandbox``
serves one from the command line.
"""

from .app import DroppedConnection, SandboxApp, create_app
from .config import DEMO_API_KEY, DEMO_APP_ID, SandboxConfig
from .server import ServedSandbox, serve

__all__ = [
    "DEMO_API_KEY",
    "DEMO_APP_ID",
    "DroppedConnection",
    "SandboxApp",
    "SandboxConfig",
    "ServedSandbox",
    "create_app",
    "serve",
]
