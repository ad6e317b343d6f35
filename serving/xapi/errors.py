"""The one error of the LRS's rules: a request refused, with the HTTP status the routes answer."""


class XapiError(Exception):
    """A request the LRS refuses, with the HTTP status to answer."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
