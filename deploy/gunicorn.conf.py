"""gunicorn's settings in the container (Dockerfile: `gunicorn -c deploy/gunicorn.conf.py isms.wsgi:application`).

The access log hides secrets in addresses (a calendar feed's token, isms/foundation/logs.py): anyone who reads
the log must not be able to read a calendar with it."""

from gunicorn.glogging import Logger

from isms.foundation.logs import redact

# Published only to the reverse proxy on the compose network (docker-compose.yml), never to the outside.
bind = "0.0.0.0:8000"
workers = 3
accesslog = "-"
# The proxy's address is the peer; the client's address is what it appended to X-Forwarded-For.
access_log_format = '%({x-forwarded-for}i)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(M)sms'
forwarded_allow_ips = "*"  # only the proxy can reach gunicorn (no published port)


class RedactingLogger(Logger):
    """gunicorn's logger, with every secret in the request line, path, query and referrer hidden."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        return {key: redact(value) if isinstance(value, str) else value for key, value in atoms.items()}


logger_class = RedactingLogger
