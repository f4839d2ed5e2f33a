"""Kiln's bootstrap for Python functions: the Lambda Runtime API client (run by bootstrap.py).

It imports the handler named by _HANDLER from LAMBDA_TASK_ROOT, then loops: take the next event
from the Runtime API (GET /next, which blocks), call the handler with the event and a context, and
post the result or the error document. It behaves as AWS's own Python runtime does: the same
handler strings, context attributes, error documents and init error types, so a function written
for Lambda runs unchanged. Standard library only; one keep-alive connection for all requests.
"""

import http.client
import importlib
import json
import os
import sys
import time

# logging and traceback are imported when first needed (issue 23: together about a tenth of a
# no-op's cold start): logging is set up the moment the function imports it (_AfterImport),
# traceback when there is a stack to report

BASE = "/2018-06-01/runtime"


class _Connection:
    """One persistent HTTP/1.1 connection to the Runtime API, reopened if it drops."""

    def __init__(self, address):
        host, _, port = address.rpartition(":")
        self.host, self.port = host, int(port)
        self.conn = None

    def request(self, method, path, body=None, headers=None):
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port)
            try:
                self.conn.request(method, path, body=body, headers=headers or {})
                response = self.conn.getresponse()
                data = response.read()
                return response, data
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = None
                if attempt == 2:
                    raise


# made in main(): nothing at import reads the environment, so that a Python zygote can import this
# module once and fork every instance from it (zygote.py)
RUNTIME = None
_BOOTSTRAP_FILE = os.path.abspath(__file__)


def _flush():
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass


def _post(path, body, headers=None):
    _flush()
    h = {"Content-Type": "application/json"}
    if headers:
        h.update(headers)
    return RUNTIME.request("POST", path, body=body, headers=h)


class _Identity:
    def __init__(self, data):
        self.cognito_identity_id = data.get("cognitoIdentityId")
        self.cognito_identity_pool_id = data.get("cognitoIdentityPoolId")


class _Client:
    def __init__(self, data):
        self.installation_id = data.get("installation_id")
        self.app_title = data.get("app_title")
        self.app_version_name = data.get("app_version_name")
        self.app_version_code = data.get("app_version_code")
        self.app_package_name = data.get("app_package_name")


class _ClientContext:
    def __init__(self, data):
        client = data.get("client")
        self.client = _Client(client) if client is not None else None
        self.custom = data.get("custom")
        self.env = data.get("env")


class LambdaContext:
    def __init__(self, request_id, deadline_ms, arn, client_context, identity):
        self.aws_request_id = request_id
        self.invoked_function_arn = arn
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.memory_limit_in_mb = int(os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"))
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self._deadline_ms = deadline_ms
        self.client_context = _ClientContext(client_context) if client_context else None
        self.identity = _Identity(identity) if identity else None

    def get_remaining_time_in_millis(self):
        return max(self._deadline_ms - int(time.time() * 1000), 0)

    def log(self, msg):
        sys.stdout.write(str(msg))


# the request being handled, which every log record is stamped with
_request_id = None


class _AfterImport:
    """Runs `then(module)` the moment module `name` is first imported, after its own code.

    A meta path finder that steps aside once it has wrapped the module's loader, so it costs the
    imports after that nothing. Kiln uses it for what it must do to a module only a function that
    imports the module should pay for (logging's set-up, an old botocore's endpoints).
    """

    def __init__(self, name, then):
        self.name, self.then = name, then

    def find_spec(self, name, path, target=None):
        if name != self.name:
            return None
        sys.meta_path.remove(self)
        import importlib.util

        spec = importlib.util.find_spec(name)
        if spec is None or spec.loader is None:
            return spec
        load = spec.loader.exec_module
        then = self.then

        def exec_module(module):
            load(module)
            then(module)

        spec.loader.exec_module = exec_module
        return spec


def _setup_logging(logging):
    """Sets up the root logger as AWS's runtime does.

    AWS's runtime configures logging before it imports the handler; importing logging costs a
    no-op function a tenth of its cold start, so Kiln does it the moment the function (or a
    library it imports) imports logging instead (_AfterImport): no record can be emitted before
    that, so what a function sees is the same. Called directly when logging is already loaded.
    """

    class _RequestIdFilter(logging.Filter):
        def filter(self, record):
            record.aws_request_id = _request_id
            return True

    handler = logging.StreamHandler(sys.stdout)
    if os.environ.get("AWS_LAMBDA_LOG_FORMAT") == "JSON":
        class _Json(logging.Formatter):
            def format(self, record):
                doc = {
                    "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
                    + "Z",
                    "level": record.levelname,
                    "message": record.getMessage(),
                    "logger": record.name,
                    "requestId": getattr(record, "aws_request_id", None),
                }
                if record.exc_info:
                    import traceback

                    doc["stackTrace"] = traceback.format_exception(*record.exc_info)
                return json.dumps(doc)

        handler.setFormatter(_Json())
    else:
        formatter = logging.Formatter(
            # no newline at the end: the handler ends each record with one
            "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s",
            "%Y-%m-%dT%H:%M:%S",
        )
        formatter.converter = time.gmtime
        handler.setFormatter(formatter)
    handler.addFilter(_RequestIdFilter())
    root = logging.getLogger()
    for h in list(root.handlers):
        root.removeHandler(h)
    root.addHandler(handler)
    level = os.environ.get("AWS_LAMBDA_LOG_LEVEL")
    if level:
        root.setLevel(getattr(logging, level.upper(), logging.INFO))


def _stack(tb):
    """A traceback as AWS's runtime reports it: from the first frame that is not the runtime's own
    (this file), so that a trace starts in the function's code, or in the import machinery for an
    error raised while the handler's module loads."""
    import traceback

    frames = traceback.extract_tb(tb)
    while frames and frames[0].filename == _BOOTSTRAP_FILE:
        frames = frames[1:]
    return traceback.format_list(frames)


def _error_doc(error_type, message, stack=None, request_id=""):
    return {
        "errorMessage": message,
        "errorType": error_type,
        "requestId": request_id,
        "stackTrace": stack or [],
    }


def _log_error(doc):
    lines = ["[ERROR] %s: %s" % (doc["errorType"], doc["errorMessage"])]
    if doc.get("stackTrace"):
        lines.append("Traceback (most recent call last):")
        lines.extend(s.rstrip("\n") for s in doc["stackTrace"])
    sys.stdout.write("\r".join(lines) + "\n")


def _report_error(request_id, doc, error_type):
    """Logs an invocation's error as AWS's runtime does and posts its document."""
    _log_error(doc)
    _post(
        BASE + "/invocation/%s/error" % request_id,
        json.dumps(doc).encode(),
        {"Lambda-Runtime-Function-Error-Type": error_type},
    )


class _InitError(Exception):
    def __init__(self, doc):
        super().__init__(doc["errorMessage"])
        self.doc = doc


def _load_handler(handler):
    try:
        module_path, function_name = handler.rsplit(".", 1)
    except ValueError as e:
        raise _InitError(
            _error_doc("Runtime.MalformedHandlerName", "Bad handler '%s': %s" % (handler, e))
        )
    module_name = module_path.replace("/", ".")
    if module_name.startswith("."):
        raise _InitError(
            _error_doc("Runtime.MalformedHandlerName", "Bad handler '%s': relative path" % handler)
        )
    try:
        module = importlib.import_module(module_name)
    except ImportError as e:
        raise _InitError(
            _error_doc(
                "Runtime.ImportModuleError",
                "Unable to import module '%s': %s" % (module_path, e),
            )
        )
    except SyntaxError as e:
        raise _InitError(
            _error_doc(
                "Runtime.UserCodeSyntaxError",
                "Syntax error in module '%s': %s" % (module_path, e),
                ['  File "%s" Line %s\n    %s' % (e.filename, e.lineno, e.text)],
            )
        )
    except Exception as e:
        raise _InitError(
            _error_doc(
                type(e).__name__,
                str(e),
                _stack(e.__traceback__),
            )
        )
    func = getattr(module, function_name, None)
    if func is None:
        raise _InitError(
            _error_doc(
                "Runtime.HandlerNotFound",
                "Handler '%s' missing on module '%s'" % (function_name, module_path),
            )
        )
    return func


def _botocore_endpoints(session_module):
    """Makes an old botocore honour AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE>.

    Kiln puts its own address there, so that the AWS SDK in a function calls Kiln with no change
    to the function's code. botocore reads these variables itself from 1.31 on; Debian's (1.29)
    does not, so when a function imports botocore.session, its Session.create_client is wrapped
    to take the endpoint from them when none is given. Nothing is imported before the function
    imports boto3, so functions that do not pay nothing.
    """
    import botocore

    try:
        version = tuple(int(p) for p in botocore.__version__.split(".")[:2])
    except ValueError:
        return
    if version >= (1, 31):
        return
    create_client = session_module.Session.create_client

    def with_endpoint(self, service_name, region_name=None, api_version=None, use_ssl=True,
                      verify=None, endpoint_url=None, *args, **kwargs):
        if endpoint_url is None:
            variable = "AWS_ENDPOINT_URL_" + service_name.upper().replace("-", "_")
            endpoint_url = os.environ.get(variable) or os.environ.get("AWS_ENDPOINT_URL")
        return create_client(self, service_name, region_name, api_version, use_ssl, verify,
                             endpoint_url, *args, **kwargs)

    session_module.Session.create_client = with_endpoint


def _site_builtins():
    """The builtins Python's site module adds (exit, quit, help, ...), which -S leaves out."""
    try:
        import site

        site.setquit()
        site.setcopyright()
        site.sethelper()
    except Exception:
        pass


def _init():
    _site_builtins()
    if any(k == "AWS_ENDPOINT_URL" or k.startswith("AWS_ENDPOINT_URL_") for k in os.environ):
        sys.meta_path.insert(0, _AfterImport("botocore.session", _botocore_endpoints))
    task_root = os.environ.get("LAMBDA_TASK_ROOT", os.getcwd())
    paths = [task_root]
    major_minor = "python%d.%d" % sys.version_info[:2]
    # the function's layers, at /opt (or where KILN_LAYERS_DIR says when there is no mount
    # namespace): python/ on the path, python/lib/pythonX.Y/site-packages as a site directory so
    # that its .pth files are honoured, as in AWS's runtime
    # (the order is AWS's: task root, the layers' site-packages, the layers' python/, the rest)
    opt = os.environ.get("KILN_LAYERS_DIR", "/opt")
    layer_python = os.path.join(opt, "python")
    site_packages = os.path.join(layer_python, "lib", major_minor, "site-packages")
    if os.path.isdir(site_packages):
        import site

        before = set(sys.path)
        site.addsitedir(site_packages)
        added = [p for p in sys.path if p not in before]
        sys.path[:] = [p for p in sys.path if p in before]
        paths.extend(added)
    if os.path.isdir(layer_python):
        paths.append(layer_python)
    # the AWS SDK Lambda's runtime bundles (boto3 and what it needs), copied from the host by Kiln:
    # after the function's own code and layers, which may bring their own. The interpreter runs
    # with -S, so nothing else of the host's site-packages is on the path, as on Lambda.
    sdk = os.path.join(os.path.dirname(_BOOTSTRAP_FILE), "sdk")
    if os.path.isdir(sdk):
        paths.append(sdk)
    sys.path[0:0] = paths
    if "logging" in sys.modules:
        _setup_logging(sys.modules["logging"])
    else:
        sys.meta_path.insert(0, _AfterImport("logging", _setup_logging))
    return _load_handler(os.environ["_HANDLER"])


def main():
    global _request_id, RUNTIME
    RUNTIME = _Connection(os.environ["AWS_LAMBDA_RUNTIME_API"])
    # a line printed before a timeout or a crash must reach the log, as on Lambda: write each line
    # through at once instead of holding it in a buffer the kill would lose
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.reconfigure(line_buffering=True)
        except (AttributeError, ValueError):
            pass
    try:
        handler = _init()
    except _InitError as e:
        _log_error(e.doc)
        _post(
            BASE + "/init/error",
            json.dumps(e.doc).encode(),
            {"Lambda-Runtime-Function-Error-Type": e.doc["errorType"]},
        )
        sys.exit(1)

    while True:
        response, body = RUNTIME.request("GET", BASE + "/invocation/next")
        if response.status != 200:
            # the instance is being shut down
            sys.exit(0)
        request_id = response.getheader("Lambda-Runtime-Aws-Request-Id")
        deadline = int(response.getheader("Lambda-Runtime-Deadline-Ms") or 0)
        arn = response.getheader("Lambda-Runtime-Invoked-Function-Arn")
        trace = response.getheader("Lambda-Runtime-Trace-Id")
        if trace:
            os.environ["_X_AMZN_TRACE_ID"] = trace
        else:
            os.environ.pop("_X_AMZN_TRACE_ID", None)
        client_context = response.getheader("Lambda-Runtime-Client-Context")
        identity = response.getheader("Lambda-Runtime-Cognito-Identity")
        _request_id = request_id
        context = LambdaContext(
            request_id,
            deadline,
            arn,
            json.loads(client_context) if client_context else None,
            json.loads(identity) if identity else None,
        )
        try:
            event = json.loads(body) if body else {}
            result = handler(event, context)
        except Exception as e:
            doc = _error_doc(type(e).__name__, str(e), _stack(e.__traceback__), request_id)
            _report_error(request_id, doc, "Unhandled")
            continue
        try:
            payload = json.dumps(result).encode()
        except Exception as e:
            doc = _error_doc(
                "Runtime.MarshalError", "Unable to marshal response: %s" % e, [], request_id
            )
            _report_error(request_id, doc, "Runtime.MarshalError")
            continue
        _post(BASE + "/invocation/%s/response" % request_id, payload)

