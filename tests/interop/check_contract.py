#!/usr/bin/env python3
"""Check the gateway's published SOAP contract: wsdl/CORERule2.2.0.wsdl and .xsd.

What is checked (nothing is fetched over the network):

1. stdlib (xml.etree): the XSD declares the ten CORE envelope elements with the expected
   child order, types and minOccurs, with unqualified children; the WSDL has the ten messages,
   portType CORETransactions with eight operations, binding CoreSoapBinding in SOAP 1.2
   document/literal style with soapAction == operation name, service Core / port CoreSoapPort
   and the address placeholder the server rewrites.
2. xmlschema: the XSD compiles and its element model matches the table; sample instances
   validate (unqualified children) or fail (qualified children, missing CheckSum); the WSDL
   loads with xmlschema.extras.wsdl.Wsdl11Document (which validates it against the WSDL 1.1
   schema) and its service, port, binding, portType, operations and messages resolve.
3. zeep (SKIPPED when zeep is not importable): the WSDL loads as a SOAP 1.2 client with the
   eight operations and builds request bodies whose root is qualified and whose children are
   unqualified.

Usage:  python check_contract.py [--wsdl-dir DIR] [--stdlib-only]
Exit status: 0 when every check that ran passed; 1 when a check failed; 2 when xmlschema is
missing (unless --stdlib-only).
"""

import argparse
import os
import sys
import warnings
import xml.etree.ElementTree as ET

CORE_NS = "http://www.caqh.org/SOAP/WSDL/"
XSD_NS = "http://www.caqh.org/SOAP/WSDL/CORERule2.2.0.xsd"
XS = "http://www.w3.org/2001/XMLSchema"
WSDL = "http://schemas.xmlsoap.org/wsdl/"
SOAP12 = "http://schemas.xmlsoap.org/wsdl/soap12/"
SOAP11 = "http://schemas.xmlsoap.org/wsdl/soap/"
SOAP12_ENV = "http://www.w3.org/2003/05/soap-envelope"
XMIME = "http://www.w3.org/2005/05/xmlmime"
HTTP_TRANSPORT = "http://schemas.xmlsoap.org/soap/http"
ADDRESS_PLACEHOLDER = "https://localhost:8443/core"

WSDL_FILE = "CORERule2.2.0.wsdl"
XSD_FILE = "CORERule2.2.0.xsd"

# ---- the expected contract -------------------------------------------------------------------

REALTIME_CHILDREN = [
    ("PayloadType", "string", 1),
    ("ProcessingMode", "string", 1),
    ("PayloadID", "string", 1),
    ("TimeStamp", "string", 1),
    ("SenderID", "string", 1),
    ("ReceiverID", "string", 1),
    ("CORERuleVersion", "string", 1),
    ("Payload", "string", 1),
]
ERROR_CHILDREN = [("ErrorCode", "string", 1), ("ErrorMessage", "string", 1)]


def batch_children(submission=False, response=False, payload_optional=False):
    """(name, xsd type local name, minOccurs) of a batch-family element, in sequence order."""
    opt = 1 if submission else 0
    children = [
        ("PayloadType", "string", 1),
        ("ProcessingMode", "string", 1),
        ("PayloadID", "string", 1),
        ("PayloadLength", "int", opt),
        ("TimeStamp", "string", 1),
        ("SenderID", "string", 1),
        ("ReceiverID", "string", 1),
        ("CORERuleVersion", "string", 1),
        ("CheckSum", "string", opt),
        ("Payload", "base64Binary", 0 if payload_optional else 1),
    ]
    return children + (ERROR_CHILDREN if response else [])


ELEMENTS = {
    "COREEnvelopeRealTimeRequest": REALTIME_CHILDREN,
    "COREEnvelopeRealTimeResponse": REALTIME_CHILDREN + ERROR_CHILDREN,
    "COREEnvelopeBatchSubmission": batch_children(submission=True),
    "COREEnvelopeBatchSubmissionResponse": batch_children(response=True),
    "COREEnvelopeBatchSubmissionAckRetrievalRequest": batch_children(payload_optional=True),
    "COREEnvelopeBatchSubmissionAckRetrievalResponse": batch_children(response=True),
    "COREEnvelopeBatchResultsRetrievalRequest": batch_children(payload_optional=True),
    "COREEnvelopeBatchResultsRetrievalResponse": batch_children(response=True),
    "COREEnvelopeBatchResultsAckSubmission": batch_children(),
    "COREEnvelopeBatchResultsAckSubmissionResponse": batch_children(response=True),
}

MESSAGES = {
    "RealTimeRequestMessage": "COREEnvelopeRealTimeRequest",
    "RealTimeResponseMessage": "COREEnvelopeRealTimeResponse",
    "BatchSubmissionMessage": "COREEnvelopeBatchSubmission",
    "BatchSubmissionResponseMessage": "COREEnvelopeBatchSubmissionResponse",
    "BatchSubmissionAckRetrievalRequestMessage": "COREEnvelopeBatchSubmissionAckRetrievalRequest",
    "BatchSubmissionAckRetrievalResponseMessage": "COREEnvelopeBatchSubmissionAckRetrievalResponse",
    "BatchResultsRetrievalRequestMessage": "COREEnvelopeBatchResultsRetrievalRequest",
    "BatchResultsRetrievalResponseMessage": "COREEnvelopeBatchResultsRetrievalResponse",
    "BatchResultsAckSubmissionMessage": "COREEnvelopeBatchResultsAckSubmission",
    "BatchResultsAckSubmissionResponseMessage": "COREEnvelopeBatchResultsAckSubmissionResponse",
}

# operation -> (input message, output message); soapAction == operation name.
OPERATIONS = {
    "RealTimeTransaction": ("RealTimeRequestMessage", "RealTimeResponseMessage"),
    "BatchSubmitTransaction": ("BatchSubmissionMessage", "BatchSubmissionResponseMessage"),
    "BatchSubmitAckRetrievalTransaction": (
        "BatchSubmissionAckRetrievalRequestMessage",
        "BatchSubmissionAckRetrievalResponseMessage",
    ),
    "BatchResultsRetrievalTransaction": (
        "BatchResultsRetrievalRequestMessage",
        "BatchResultsRetrievalResponseMessage",
    ),
    "BatchResultsAckSubmitTransaction": (
        "BatchResultsAckSubmissionMessage",
        "BatchResultsAckSubmissionResponseMessage",
    ),
    "GenericBatchSubmissionTransaction": ("BatchSubmissionMessage", "BatchSubmissionResponseMessage"),
    "GenericBatchRetrievalTransaction": (
        "BatchResultsRetrievalRequestMessage",
        "BatchResultsRetrievalResponseMessage",
    ),
    "GenericBatchReceiptConfirmationTransaction": (
        "BatchResultsAckSubmissionMessage",
        "BatchResultsAckSubmissionResponseMessage",
    ),
}

REALTIME_SAMPLE = {
    "PayloadType": "X12_270_Request_005010X279A1",
    "ProcessingMode": "RealTime",
    "PayloadID": "f81d4fae-7dec-11d0-a765-00a0c91e6bf6",
    "TimeStamp": "2007-08-30T10:20:34Z",
    "SenderID": "HospitalA",
    "ReceiverID": "PayerB",
    "CORERuleVersion": "2.2.0",
    "Payload": "ISA*00*          *00*          *ZZ*SENDER~IEA*1*000000001~",
}
BATCH_SAMPLE = {
    "PayloadType": "X12_837_Request_005010X222A1",
    "ProcessingMode": "Batch",
    "PayloadID": "0c5e3a3e-1d2b-11ee-be56-0242ac120002",
    "PayloadLength": "12",
    "TimeStamp": "2023-07-10T12:00:00Z",
    "SenderID": "HospitalA",
    "ReceiverID": "PayerB",
    "CORERuleVersion": "2.2.0",
    "CheckSum": "0123456789abcdef0123456789abcdef01234567",
    "Payload": "SVNBKjAwKi4uLn4K",  # base64 of b"ISA*00*...~\n" (12 bytes)
}


def q(ns, local):
    return "{%s}%s" % (ns, local)


# ---- reporting -------------------------------------------------------------------------------


class Report:
    def __init__(self):
        self.failures = []

    def check(self, cond, what):
        if cond:
            print("  ok    " + what)
        else:
            print("  FAIL  " + what)
            self.failures.append(what)
        return cond

    def fail(self, what):
        return self.check(False, what)


def section(title):
    print("\n== " + title)


# ---- 1. stdlib structural checks -------------------------------------------------------------


def resolve_prefixed(value, nsmap):
    """'CORE-XSD:Foo' -> '{ns}Foo' using the document's prefix map."""
    if value is None or ":" not in value:
        return value
    prefix, local = value.split(":", 1)
    return q(nsmap.get(prefix, "?" + prefix), local)


def collect_nsmap(path):
    nsmap = {}
    for _event, (prefix, uri) in ET.iterparse(path, events=("start-ns",)):
        nsmap.setdefault(prefix, uri)
    return nsmap


def stdlib_xsd(rep, xsd_path):
    section("XSD structure (stdlib) " + xsd_path)
    root = ET.parse(xsd_path).getroot()
    rep.check(root.tag == q(XS, "schema"), "root is xsd:schema")
    rep.check(root.get("targetNamespace") == XSD_NS, "targetNamespace is " + XSD_NS)
    rep.check(
        root.get("elementFormDefault", "unqualified") == "unqualified",
        'elementFormDefault="unqualified" (children unqualified)',
    )
    nsmap = collect_nsmap(xsd_path)
    xs_prefixes = {p for p, u in nsmap.items() if u == XS}
    globals_ = {e.get("name"): e for e in root.findall(q(XS, "element"))}
    rep.check(
        set(globals_) == set(ELEMENTS),
        "exactly the ten global elements (got %s)" % sorted(globals_),
    )
    for name, expected in ELEMENTS.items():
        decl = globals_.get(name)
        if decl is None:
            rep.fail("global element %s declared" % name)
            continue
        seq = decl.find("%s/%s" % (q(XS, "complexType"), q(XS, "sequence")))
        if seq is None:
            rep.fail("%s has complexType/sequence" % name)
            continue
        got = []
        ok_types = True
        for child in seq.findall(q(XS, "element")):
            typ = child.get("type", "")
            prefix, _, local = typ.rpartition(":")
            if prefix not in xs_prefixes:
                ok_types = False
            got.append((child.get("name"), local, int(child.get("minOccurs", "1"))))
            if child.get("form") == "qualified":
                rep.fail("%s/%s must not be form=qualified" % (name, child.get("name")))
            if child.get("maxOccurs", "1") != "1":
                rep.fail("%s/%s must have maxOccurs 1" % (name, child.get("name")))
        rep.check(ok_types, "%s child types are XML Schema built-ins" % name)
        rep.check(got == expected, "%s children (name, type, minOccurs) in order" % name)
        if got != expected:
            print("        expected %s\n        got      %s" % (expected, got))


def stdlib_wsdl(rep, wsdl_path):
    section("WSDL structure (stdlib) " + wsdl_path)
    with open(wsdl_path, encoding="utf-8") as f:
        text = f.read()
    rep.check(
        text.count(ADDRESS_PLACEHOLDER) == 1,
        "address placeholder %s appears exactly once" % ADDRESS_PLACEHOLDER,
    )
    root = ET.parse(wsdl_path).getroot()
    nsmap = collect_nsmap(wsdl_path)
    rep.check(root.tag == q(WSDL, "definitions"), "root is wsdl:definitions")
    rep.check(root.get("targetNamespace") == CORE_NS, "targetNamespace is " + CORE_NS)
    rep.check(SOAP11 not in nsmap.values(), "no SOAP 1.1 binding namespace is declared")

    # types: one wrapper schema importing the CORE-XSD namespace from the sibling file
    imports = root.findall("%s/%s/%s" % (q(WSDL, "types"), q(XS, "schema"), q(XS, "import")))
    rep.check(
        [(i.get("namespace"), i.get("schemaLocation")) for i in imports] == [(XSD_NS, XSD_FILE)],
        "wsdl:types imports %s from %s" % (XSD_NS, XSD_FILE),
    )

    # messages
    msgs = {}
    for m in root.findall(q(WSDL, "message")):
        parts = m.findall(q(WSDL, "part"))
        msgs[m.get("name")] = [(p.get("name"), resolve_prefixed(p.get("element"), nsmap)) for p in parts]
    rep.check(set(msgs) == set(MESSAGES), "exactly the ten wsdl:message elements")
    for name, element in MESSAGES.items():
        rep.check(
            msgs.get(name) == [("body", q(XSD_NS, element))],
            "message %s has one part body = CORE-XSD:%s" % (name, element),
        )

    # portType
    pts = root.findall(q(WSDL, "portType"))
    rep.check([p.get("name") for p in pts] == ["CORETransactions"], "one portType CORETransactions")
    pt_ops = {}
    for pt in pts:
        for op in pt.findall(q(WSDL, "operation")):
            i, o = op.find(q(WSDL, "input")), op.find(q(WSDL, "output"))
            pt_ops[op.get("name")] = (
                resolve_prefixed(i.get("message"), nsmap) if i is not None else None,
                resolve_prefixed(o.get("message"), nsmap) if o is not None else None,
            )
    rep.check(list(pt_ops) == list(OPERATIONS), "portType has the eight operations in order")
    for name, (i, o) in OPERATIONS.items():
        rep.check(
            pt_ops.get(name) == (q(CORE_NS, i), q(CORE_NS, o)),
            "portType %s: input %s, output %s" % (name, i, o),
        )

    # binding
    bindings = root.findall(q(WSDL, "binding"))
    rep.check([b.get("name") for b in bindings] == ["CoreSoapBinding"], "one binding CoreSoapBinding")
    for b in bindings:
        rep.check(
            resolve_prefixed(b.get("type"), nsmap) == q(CORE_NS, "CORETransactions"),
            "binding type is CORE:CORETransactions",
        )
        sb = b.find(q(SOAP12, "binding"))
        rep.check(
            sb is not None and sb.get("style") == "document" and sb.get("transport") == HTTP_TRANSPORT,
            'soap12:binding style="document" transport="%s"' % HTTP_TRANSPORT,
        )
        b_ops = {}
        for op in b.findall(q(WSDL, "operation")):
            so = op.find(q(SOAP12, "operation"))
            bodies = [
                (d.find(q(SOAP12, "body")).get("use") if d is not None and d.find(q(SOAP12, "body")) is not None else None)
                for d in (op.find(q(WSDL, "input")), op.find(q(WSDL, "output")))
            ]
            b_ops[op.get("name")] = (
                so.get("soapAction") if so is not None else None,
                so.get("style") if so is not None else None,
                bodies,
            )
        rep.check(list(b_ops) == list(OPERATIONS), "binding has the eight operations in order")
        for name in OPERATIONS:
            rep.check(
                b_ops.get(name) == (name, "document", ["literal", "literal"]),
                'binding %s: soap12:operation soapAction="%s" style=document, literal bodies'
                % (name, name),
            )

    # service
    services = root.findall(q(WSDL, "service"))
    rep.check([s.get("name") for s in services] == ["Core"], "one service Core")
    for s in services:
        ports = s.findall(q(WSDL, "port"))
        rep.check([p.get("name") for p in ports] == ["CoreSoapPort"], "service Core has port CoreSoapPort")
        for p in ports:
            rep.check(
                resolve_prefixed(p.get("binding"), nsmap) == q(CORE_NS, "CoreSoapBinding"),
                "port binding is CORE:CoreSoapBinding",
            )
            addr = p.find(q(SOAP12, "address"))
            rep.check(
                addr is not None and addr.get("location") == ADDRESS_PLACEHOLDER,
                'soap12:address location="%s"' % ADDRESS_PLACEHOLDER,
            )


# ---- 2. xmlschema checks ---------------------------------------------------------------------


def instance(root_name, fields, qualified_children=False, drop=()):
    """Build an instance document of a CORE element in memory."""
    root = ET.Element(q(XSD_NS, root_name))
    for name, value in fields.items():
        if name in drop:
            continue
        tag = q(XSD_NS, name) if qualified_children else name
        ET.SubElement(root, tag).text = value
    return ET.tostring(root, encoding="unicode")


def xmlschema_checks(rep, xmlschema, xsd_path, wsdl_path):
    section("XSD with xmlschema %s" % xmlschema.__version__)
    try:
        schema = xmlschema.XMLSchema10(xsd_path, allow="local")
    except Exception as exc:  # noqa: BLE001 - report any load error as a failure
        rep.fail("XSD compiles: %s: %s" % (type(exc).__name__, exc))
        return
    rep.check(schema.target_namespace == XSD_NS, "target namespace " + XSD_NS)
    rep.check(set(schema.elements) == set(ELEMENTS), "the ten global elements exist")
    for name, expected in ELEMENTS.items():
        el = schema.elements.get(name)
        if el is None:
            rep.fail("element %s" % name)
            continue
        # A global element is always in the target namespace: the body root is qualified.
        rep.check(el.name == q(XSD_NS, name), "%s is namespace-qualified" % name)
        got = []
        all_unqualified = True
        for child in el.type.content.iter_elements():
            got.append((child.local_name, child.type.local_name, child.min_occurs))
            if child.qualified or child.name != child.local_name:
                all_unqualified = False
        rep.check(got == expected, "%s child model (name, type, minOccurs) in order" % name)
        if got != expected:
            print("        expected %s\n        got      %s" % (expected, got))
        rep.check(all_unqualified, "%s children are unqualified" % name)

    section("Sample instances")
    good = instance("COREEnvelopeRealTimeRequest", REALTIME_SAMPLE)
    errors = list(schema.iter_errors(good))
    rep.check(not errors, "RealTimeRequest with unqualified children is valid")
    for e in errors[:3]:
        print("        " + str(e.reason))
    bad = instance("COREEnvelopeRealTimeRequest", REALTIME_SAMPLE, qualified_children=True)
    rep.check(not schema.is_valid(bad), "RealTimeRequest with qualified children is NOT valid")
    batch = instance("COREEnvelopeBatchSubmission", BATCH_SAMPLE)
    rep.check(schema.is_valid(batch), "BatchSubmission with unqualified children is valid")
    no_sum = instance("COREEnvelopeBatchSubmission", BATCH_SAMPLE, drop=("CheckSum",))
    rep.check(not schema.is_valid(no_sum), "BatchSubmission without CheckSum is NOT valid")
    retr = instance("COREEnvelopeBatchResultsRetrievalRequest", BATCH_SAMPLE, drop=("PayloadLength", "CheckSum", "Payload"))
    rep.check(schema.is_valid(retr), "BatchResultsRetrievalRequest without PayloadLength/CheckSum/Payload is valid")

    section("WSDL with xmlschema.extras.wsdl.Wsdl11Document")
    from xmlschema.extras.wsdl import Wsdl11Document

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            wsdl = Wsdl11Document(
                wsdl_path,
                locations=[(XSD_NS, xsd_path)],
                allow="local",
            )
        except Exception as exc:  # noqa: BLE001
            rep.fail("WSDL loads: %s: %s" % (type(exc).__name__, exc))
            return
    import_warnings = [str(w.message) for w in caught if "mport" in str(w.message)]
    rep.check(not import_warnings, "WSDL loads and imports the XSD without warnings")
    for w in import_warnings:
        print("        " + w)

    rep.check(
        wsdl.schema.maps.elements.get(q(XSD_NS, "COREEnvelopeRealTimeRequest")) is not None,
        "CORE-XSD elements are visible from the WSDL",
    )
    service = wsdl.services.get(q(CORE_NS, "Core"))
    rep.check(service is not None and list(wsdl.services) == [q(CORE_NS, "Core")], "service Core")
    port = service.ports.get("CoreSoapPort") if service is not None else None
    rep.check(port is not None, "port CoreSoapPort")
    binding = wsdl.bindings.get(q(CORE_NS, "CoreSoapBinding"))
    rep.check(binding is not None and list(wsdl.bindings) == [q(CORE_NS, "CoreSoapBinding")], "binding CoreSoapBinding")
    if port is not None:
        rep.check(port.binding is binding, "port CoreSoapPort uses binding CoreSoapBinding")
        addr = port.elem.find(q(SOAP12, "address"))
        rep.check(addr is not None and addr.get("location") == ADDRESS_PLACEHOLDER, "port has the soap12:address placeholder")
    port_type = wsdl.port_types.get(q(CORE_NS, "CORETransactions"))
    rep.check(port_type is not None, "portType CORETransactions")
    if binding is None or port_type is None:
        return
    rep.check(binding.port_type is port_type, "binding CoreSoapBinding implements CORETransactions")
    # xmlschema's WSDL module reads only SOAP 1.1 extension elements, so the SOAP 1.2 ones
    # are read from the binding element it keeps (binding.operations maps to the portType
    # operations, whose elements carry no soap12:operation).
    sb = binding.elem.find(q(SOAP12, "binding"))
    soap12_ops = {
        e.get("name"): e.find(q(SOAP12, "operation")) for e in binding.elem.findall(q(WSDL, "operation"))
    }
    rep.check(
        sb is not None and sb.get("style") == "document" and sb.get("transport") == HTTP_TRANSPORT,
        "binding is SOAP 1.2 (soap12:binding document over HTTP)",
    )
    op_names = [key[0] for key in binding.operations]
    rep.check(sorted(op_names) == sorted(OPERATIONS), "binding has the 8 operations: %s" % op_names)
    for key, op in binding.operations.items():
        name = key[0]
        so = soap12_ops.get(name)
        rep.check(
            so is not None and so.get("soapAction") == name and so.get("style") == "document",
            "%s: SOAP 1.2 soapAction == %s" % (name, name),
        )
        if name not in OPERATIONS:
            continue
        in_msg, out_msg = OPERATIONS[name]
        ok = (
            op.input is not None
            and op.output is not None
            and op.input.message is wsdl.messages.get(q(CORE_NS, in_msg))
            and op.output.message is wsdl.messages.get(q(CORE_NS, out_msg))
        )
        rep.check(ok, "%s: input %s, output %s" % (name, in_msg, out_msg))
    for mname, element in MESSAGES.items():
        msg = wsdl.messages.get(q(CORE_NS, mname))
        part = msg.parts.get("body") if msg is not None else None
        rep.check(
            part is not None and part.name == q(XSD_NS, element) and len(msg.parts) == 1,
            "message %s part body resolves to %s" % (mname, element),
        )


# ---- 3. zeep ---------------------------------------------------------------------------------


def zeep_checks(rep, wsdl_path):
    section("zeep")
    try:
        import zeep
        from zeep.transports import Transport
    except ImportError:
        print("  SKIPPED (zeep is not importable)")
        return
    print("  zeep %s" % getattr(zeep, "__version__", "?"))

    class LocalOnlyTransport(Transport):
        """Refuses to fetch anything over the network."""

        def load(self, url):
            if url.startswith(("http://", "https://")):
                raise RuntimeError("network access attempted: " + url)
            return super().load(url)

    try:
        client = zeep.Client(wsdl_path, transport=LocalOnlyTransport())
    except Exception as exc:  # noqa: BLE001
        rep.fail("zeep.Client loads the WSDL: %s: %s" % (type(exc).__name__, exc))
        return
    binding = client.service._binding
    rep.check(type(binding).__name__ == "Soap12Binding", "zeep sees a SOAP 1.2 binding")
    ops = list(binding._operations)
    rep.check(sorted(ops) == sorted(OPERATIONS), "zeep sees the 8 operations")
    for name in OPERATIONS:
        op = binding._operations.get(name)
        rep.check(op is not None and op.soapaction == name, "zeep %s soapAction == name" % name)
    rep.check(hasattr(client.service, "RealTimeTransaction"), "client.service.RealTimeTransaction exists")
    rep.check(
        client.service._binding_options.get("address") == ADDRESS_PLACEHOLDER,
        "zeep service address is the placeholder",
    )

    try:
        el = client.get_element(q(XSD_NS, "COREEnvelopeRealTimeRequest"))
        built = el(**REALTIME_SAMPLE)
        rep.check(built is not None, "client.get_element(COREEnvelopeRealTimeRequest) builds a value")
    except Exception as exc:  # noqa: BLE001
        rep.fail("client.get_element(COREEnvelopeRealTimeRequest): %s: %s" % (type(exc).__name__, exc))

    samples = [
        ("RealTimeTransaction", "COREEnvelopeRealTimeRequest", dict(REALTIME_SAMPLE)),
        (
            "BatchSubmitTransaction",
            "COREEnvelopeBatchSubmission",
            dict(BATCH_SAMPLE, PayloadLength=12, Payload=b"ISA*00*...~\n"),
        ),
    ]
    for op_name, element, fields in samples:
        try:
            env = client.create_message(client.service, op_name, **fields)
        except Exception as exc:  # noqa: BLE001
            rep.fail("zeep create_message %s: %s: %s" % (op_name, type(exc).__name__, exc))
            continue
        rep.check(env.tag == q(SOAP12_ENV, "Envelope"), "%s: SOAP 1.2 envelope" % op_name)
        body = env.find(q(SOAP12_ENV, "Body"))
        roots = list(body) if body is not None else []
        rep.check(
            len(roots) == 1 and roots[0].tag == q(XSD_NS, element),
            "%s: body root is qualified {%s}%s" % (op_name, XSD_NS, element),
        )
        if not roots:
            continue
        tags = [c.tag for c in roots[0]]
        rep.check(
            tags == [c[0] for c in ELEMENTS[element]],
            "%s: children are unqualified and in order (%s)" % (op_name, ", ".join(tags)),
        )


# ---- main ------------------------------------------------------------------------------------


def main(argv=None):
    here = os.path.dirname(os.path.abspath(__file__))
    default_dir = os.path.normpath(os.path.join(here, "..", "..", "wsdl"))
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--wsdl-dir", default=default_dir, help="directory holding %s and %s" % (WSDL_FILE, XSD_FILE))
    ap.add_argument("--stdlib-only", action="store_true", help="run only the stdlib structural checks")
    args = ap.parse_args(argv)

    wsdl_path = os.path.abspath(os.path.join(args.wsdl_dir, WSDL_FILE))
    xsd_path = os.path.abspath(os.path.join(args.wsdl_dir, XSD_FILE))
    for p in (wsdl_path, xsd_path):
        if not os.path.isfile(p):
            print("check_contract: missing file " + p, file=sys.stderr)
            return 1

    rep = Report()
    try:
        stdlib_xsd(rep, xsd_path)
        stdlib_wsdl(rep, wsdl_path)
    except ET.ParseError as exc:
        rep.fail("XML is well-formed: %s" % exc)

    if not args.stdlib_only:
        try:
            import xmlschema
        except ImportError:
            print(
                "\ncheck_contract: xmlschema is not installed; install it "
                "(tests/difftest/requirements.txt) or pass --stdlib-only",
                file=sys.stderr,
            )
            return 2
        xmlschema_checks(rep, xmlschema, xsd_path, wsdl_path)
        zeep_checks(rep, wsdl_path)

    print()
    if rep.failures:
        print("check_contract: FAILED, %d problem(s):" % len(rep.failures), file=sys.stderr)
        for f in rep.failures:
            print("  - " + f, file=sys.stderr)
        return 1
    print("check_contract: OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
