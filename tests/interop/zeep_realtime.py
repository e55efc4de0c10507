#!/usr/bin/env python3
"""A CORE vC2.2.0 real-time request from zeep, the Python SOAP client, against a running gateway.

zeep imports the WSDL the gateway publishes at URL?wsdl (and the XSD it names by a relative
schemaLocation), signs in with a WS-Security UsernameToken (PasswordText) and calls
RealTimeTransaction the way a hospital's Python integration would.

Usage:
  python zeep_realtime.py --url https://localhost:PORT/core --ca CA.pem --user U --password P
      --sender S --payload FILE [--payload-type T] [--receiver R]
      [--expect TEXT ...] [--expect-fault TEXT]

Without --expect-fault: prints the response's ErrorCode, PayloadType and Payload; exits 0 only
when ErrorCode is Success and every --expect text occurs in the Payload.
With --expect-fault TEXT: the call must raise zeep.exceptions.Fault whose message contains TEXT.
Exit status 1 on any failure (the reason is printed), 2 when zeep is not importable.

Note: this machine exports REQUESTS_CA_BUNDLE, which requests lets override session.verify;
so the session does not trust the environment and is given the test CA explicitly.
"""

import argparse
import datetime
import sys
import uuid

try:
    import requests
    import zeep
    import zeep.exceptions
    import zeep.plugins
    import zeep.transports
    import zeep.wsse.username
except ImportError as e:  # pragma: no cover - depends on the venv
    print(f"zeep_realtime: zeep is not importable: {e}", file=sys.stderr)
    sys.exit(2)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--url", required=True, help="the service address, e.g. https://localhost:8443/core")
    p.add_argument("--ca", required=True, help="PEM file of the CA that signed the server certificate")
    p.add_argument("--user", required=True)
    p.add_argument("--password", required=True)
    p.add_argument("--sender", required=True)
    p.add_argument("--receiver", default="DEMOPLAN")
    p.add_argument("--payload", required=True, help="file holding the X12 request")
    p.add_argument("--payload-type", default="X12_270_Request_005010X279A1")
    p.add_argument("--expect", action="append", default=[], help="text the response Payload must contain")
    p.add_argument("--expect-fault", help="the call must raise a SOAP Fault whose message contains this")
    a = p.parse_args()

    with open(a.payload, encoding="utf-8") as f:
        x12 = f.read()

    session = requests.Session()
    session.trust_env = False
    session.verify = a.ca
    transport = zeep.transports.Transport(session=session, timeout=30, operation_timeout=30)
    wsse = zeep.wsse.username.UsernameToken(a.user, a.password, use_digest=False)
    try:
        client = zeep.Client(f"{a.url}?wsdl", transport=transport, wsse=wsse)
    except Exception as e:
        print(f"zeep_realtime: FAILED to import the WSDL {a.url}?wsdl: {type(e).__name__}: {e}")
        return 1

    payload_id = str(uuid.uuid4())
    timestamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    history = zeep.plugins.HistoryPlugin()
    client.plugins.append(history)

    def dump_exchange():
        try:
            from lxml import etree

            if history.last_sent:
                print("--- request sent by zeep:")
                print(etree.tostring(history.last_sent["envelope"], pretty_print=True).decode())
            if history.last_received:
                print("--- response received by zeep:")
                print(etree.tostring(history.last_received["envelope"], pretty_print=True).decode())
        except Exception as e:  # the dump is a diagnostic only
            print(f"(could not dump the exchange: {e})")

    try:
        response = client.service.RealTimeTransaction(
            PayloadType=a.payload_type,
            ProcessingMode="RealTime",
            PayloadID=payload_id,
            TimeStamp=timestamp,
            SenderID=a.sender,
            ReceiverID=a.receiver,
            CORERuleVersion="2.2.0",
            Payload=x12,
        )
    except zeep.exceptions.Fault as fault:
        print(f"Fault: code={fault.code!r} message={fault.message!r} subcodes={fault.subcodes!r}")
        if a.expect_fault is None:
            print("zeep_realtime: FAILED: unexpected SOAP Fault")
            dump_exchange()
            return 1
        if a.expect_fault.lower() not in (fault.message or "").lower():
            print(f"zeep_realtime: FAILED: the fault message does not contain {a.expect_fault!r}")
            dump_exchange()
            return 1
        print("zeep_realtime: OK (the expected fault)")
        return 0
    except Exception as e:
        print(f"zeep_realtime: FAILED: {type(e).__name__}: {e}")
        dump_exchange()
        return 1

    if a.expect_fault is not None:
        print(f"zeep_realtime: FAILED: expected a SOAP Fault containing {a.expect_fault!r}, got a response:")
        print(response)
        return 1

    error_code = getattr(response, "ErrorCode", None)
    payload_type = getattr(response, "PayloadType", None)
    payload = getattr(response, "Payload", None) or ""
    print(f"ErrorCode: {error_code}")
    print(f"ErrorMessage: {getattr(response, 'ErrorMessage', None)}")
    print(f"PayloadType: {payload_type}")
    print(f"PayloadID: {getattr(response, 'PayloadID', None)} (sent {payload_id})")
    print("Payload:")
    print(payload)

    failures = []
    if error_code != "Success":
        failures.append(f"ErrorCode is {error_code!r}, not 'Success'")
    for text in a.expect:
        if text not in payload:
            failures.append(f"{text!r} is not in the Payload")
    if failures:
        for f in failures:
            print(f"zeep_realtime: FAILED: {f}")
        dump_exchange()
        return 1
    print("zeep_realtime: OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
