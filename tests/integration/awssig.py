"""AWS Signature Version 4, checked independently: Debian's python3-botocore recomputes the
signature of a request that reached an httpfixture server (SNS in test_notify.py, DynamoDB
through the proxy of dynalite.py).
"""
import hmac


def signed_headers(request):
    """The names in the request's SigV4 Authorization header (lower case), or []."""
    scheme, _, rest = request.headers.get("authorization", "").partition(" ")
    if scheme != "AWS4-HMAC-SHA256":
        return []
    fields = dict(p.strip().split("=", 1) for p in rest.split(","))
    return fields.get("SignedHeaders", "").split(";")


def verify_sigv4(request, key, secret, region, url, service):
    """Recomputes the request's SigV4 signature with botocore; returns (ok, reason).

    `request` has method, headers (lower-cased names) and body; `url` is the URL it was sent to;
    `service` the signing name (sns, dynamodb)."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    scheme, _, rest = request.headers.get("authorization", "").partition(" ")
    if scheme != "AWS4-HMAC-SHA256":
        return False, "no SigV4 Authorization header"
    fields = dict(p.strip().split("=", 1) for p in rest.split(","))
    signed = fields["SignedHeaders"].split(";")
    if any(h not in request.headers for h in signed):
        return False, "a signed header is missing from the request"
    amz_date = request.headers["x-amz-date"]
    aws = AWSRequest(method=request.method, url=url, data=request.body,
                     headers={h: request.headers[h] for h in signed})
    aws.context["timestamp"] = amz_date
    signer = SigV4Auth(Credentials(key, secret), service, region)
    expected = signer.signature(signer.string_to_sign(aws, signer.canonical_request(aws)), aws)
    if fields["Credential"] != f"{key}/{amz_date[:8]}/{region}/{service}/aws4_request":
        return False, "wrong credential scope " + fields["Credential"]
    if not hmac.compare_digest(expected, fields["Signature"]):
        return False, "signature mismatch"
    return True, "ok"
