"""Canned HTML and error bodies that Creatio/IIS answer with (§2.3, §3.11, §8.12)."""

from __future__ import annotations

from typing import Any

from .http import JSON_UTF8, ODATA_JSON, Response, dumps, html_response

WCF_AUTH_FAULT = {"Message": "Authentication failed.", "StackTrace": None,
                  "ExceptionType": "System.InvalidOperationException"}

LOGIN_PAGE = """<!DOCTYPE html>
<html>
<head>
<meta http-equiv="Content-Type" content="text/html; charset=utf-8" />
<title>Creatio</title>
<link rel="stylesheet" href="/0/Login/Login.css" />
<script src="/0/Login/bootstrap.login.js"></script>
</head>
<body class="login-page">
<form method="post" action="{action}" id="loginForm">
<div class="login-container">
<input type="text" id="loginEdit" name="UserName" placeholder="Login" />
<input type="password" id="passwordEdit" name="UserPassword" placeholder="Password" />
<button type="submit" id="t-comp18-textEl">Log in</button>
</div>
</form>
</body>
</html>
"""

SERVER_ERROR_PAGE = """<!DOCTYPE html>
<html>
    <head>
        <title>Runtime Error</title>
        <meta name="viewport" content="width=device-width" />
    </head>
    <body bgcolor="white">
            <span><H1>Server Error in '/' Application.<hr width=100% size=1 color=silver></H1>
            <h2> <i>Runtime Error</i> </h2></span>
            <b> Description: </b>An application error occurred on the server.
    </body>
</html>
"""

NOT_FOUND_PAGE = """<!DOCTYPE html>
<html>
    <head>
        <title>The resource cannot be found.</title>
    </head>
    <body bgcolor="white">
            <span><H1>Server Error in '/' Application.<hr width=100% size=1 color=silver></H1>
            <h2> <i>The resource cannot be found.</i> </h2></span>
            <b> Description: </b>HTTP 404. The resource you are looking for (or one of its dependencies) could
            have been removed, had its name changed, or is temporarily unavailable.
            <b> Requested URL: </b>{path}<br><br>
    </body>
</html>
"""

UNAVAILABLE_PAGE = """<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01//EN""http://www.w3.org/TR/html4/strict.dtd">
<HTML><HEAD><TITLE>Service Unavailable</TITLE>
<META HTTP-EQUIV="Content-Type" Content="text/html; charset=us-ascii"></HEAD>
<BODY><h2>Service Unavailable</h2>
<hr><p>HTTP Error 503. The service is unavailable.</p>
</BODY></HTML>
"""

RAM_LIMIT_MESSAGE = ("Request processing terminated because it reached the RAM consumption limit of 2000 MB. "
                     "Please contact your system administrator.")


def object_moved(location: str) -> Response:
    body = (f'<html><head><title>Object moved</title></head><body>\r\n'
            f'<h2>Object moved to <a href="{location}">here</a>.</h2>\r\n</body></html>\r\n')
    return html_response(body, 302, [("Location", location)])


def not_found_html(path: str) -> Response:
    return html_response(NOT_FOUND_PAGE.format(path=path), 404)


def odata_error(status: int, message: str, inner: str | None = None, inner_type: str = "",
                internal: dict[str, Any] | None = None) -> Response:
    """OData 4 error body; `code` is always "" (§3.11)."""
    innererror: dict[str, Any] = {"message": inner if inner is not None else message, "type": inner_type,
                                  "stacktrace": ""}
    if internal:
        innererror["internalexception"] = internal
    return Response(status, dumps({"error": {"code": "", "message": message, "innererror": innererror}}),
                    ODATA_JSON, [("OData-Version", "4.0")])


def too_large_text(limit: int) -> str:
    """The refusal of a body over the MaxFileSize system setting."""
    return f"The file size exceeds the MaxFileSize system setting ({limit / (1024 * 1024):g} MB)."


def query_error(message: str) -> Response:
    """400 for an invalid URI query, in the captured shape."""
    return odata_error(400, "The query specified in the URI is not valid. " + message, message)


def server_error(inner: str, inner_type: str) -> Response:
    return odata_error(500, "An error has occurred.", inner, inner_type)


def routing_404(url: str, controller: str) -> Response:
    return Response(404, dumps({
        "Message": f"No HTTP resource was found that matches the request URI '{url}'.",
        "MessageDetail": f"No type was found that matches the controller named '{controller}'.",
    }), JSON_UTF8)
