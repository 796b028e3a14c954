#!/usr/bin/python3
"""Oracle for the strongSwan interop test: the keys ike-peer derived must equal the ones charon
logs (filelog with ike = 4, chd = 4), for the IKE SA (SK_d, SK_ai ... SK_pr) and the CHILD SA
(encryption/integrity initiator/responder keys), and the ESP SPIs must pair up crosswise.

usage: check_keys.py CHARON_LOG IKE_PEER_JSONL initiator|responder [EXPECTED_ENC]
"""
import json
import re
import sys


def charon_chunks(path):
    """label -> list of hex strings, in log order, for every '%B' chunk dump in the log."""
    chunks = {}
    label = None
    data = ""
    head = re.compile(r"^\d+\[(IKE|CHD)\] (.+?) => (\d+) bytes @ 0x[0-9a-f]+$")
    row = re.compile(r"^\d+\[(IKE|CHD)\]\s+\d+: ((?:[0-9A-F]{2} ?)+)")
    with open(path, errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            m = head.match(line)
            if m:
                if label is not None:
                    chunks.setdefault(label, []).append(data)
                label, data = m.group(2), ""
                continue
            r = row.match(line)
            if r and label is not None:
                data += r.group(2).replace(" ", "").lower()
                continue
            if label is not None:
                chunks.setdefault(label, []).append(data)
                label, data = None, ""
    if label is not None:
        chunks.setdefault(label, []).append(data)
    return chunks


def main():
    log, ours, role = sys.argv[1], sys.argv[2], sys.argv[3]
    expected_enc = sys.argv[4] if len(sys.argv) > 4 else None
    events = [json.loads(l) for l in open(ours) if l.strip().startswith("{")]
    ike = [e for e in events if e.get("event") == "ike_sa"]
    installs = [e for e in events if e.get("event") == "install"]
    if not ike:
        sys.exit("ike-peer reported no established IKE SA")
    if len(installs) < 2:
        sys.exit("ike-peer installed no CHILD SA")
    sa = ike[-1]
    chunks = charon_chunks(log)
    fails = []
    for ours_key, theirs in (("sk_d", "Sk_d secret"), ("sk_ai", "Sk_ai secret"), ("sk_ar", "Sk_ar secret"),
                             ("sk_ei", "Sk_ei secret"), ("sk_er", "Sk_er secret"), ("sk_pi", "Sk_pi secret"),
                             ("sk_pr", "Sk_pr secret")):
        got = chunks.get(theirs, [])
        if ours_key in ("sk_ai", "sk_ar") and "gcm" in sa["proposal"]:
            # RFC 5282 section 7: an AEAD IKE SA has no integrity keys; charon derives none.
            if sa[ours_key] or got:
                fails.append(f"{ours_key}: AEAD IKE SA must have no integrity key (ours {sa[ours_key]!r}, charon {got})")
            continue
        if sa[ours_key] not in got:
            fails.append(f"{ours_key}: ours {sa[ours_key]} not among charon's {theirs} {got}")
    inbound = [e for e in installs if e["direction"] == "inbound"][0]
    outbound = [e for e in installs if e["direction"] == "outbound"][0]
    # The initiator of the CHILD SA exchange sends with the "initiator" keys (RFC 7296 2.17).
    mine, peers = ("initiator", "responder") if role == "initiator" else ("responder", "initiator")
    for e, who in ((outbound, mine), (inbound, peers)):
        enc = chunks.get(f"encryption {who} key", [])
        if e["encryption_key"] not in enc:
            fails.append(f"{e['direction']} encryption key {e['encryption_key']} not among charon's {who} keys {enc}")
        if e["integrity"]:
            integ = chunks.get(f"integrity {who} key", [])
            if e["integrity_key"] not in integ:
                fails.append(f"{e['direction']} integrity key not among charon's {who} keys")
        if e["encap"] is None:
            fails.append(f"{e['direction']} SA is not UDP-encapsulated (charon with kernel-libipsec always is)")
    if expected_enc and outbound["encryption"] != expected_enc:
        fails.append(f"negotiated {outbound['encryption']}, expected {expected_enc}")
    # SPIs crosswise: charon logs "established with SPIs <its inbound>_i <its outbound>_o".
    spis = re.findall(r"established with SPIs ([0-9a-f]{8})_i ([0-9a-f]{8})_o", open(log, errors="replace").read())
    if (outbound["spi"], inbound["spi"]) not in spis:
        fails.append(f"SPIs in {inbound['spi']} / out {outbound['spi']} do not match charon's {spis}")
    if fails:
        print("\n".join(fails))
        sys.exit(1)
    print(f"ok: {sa['proposal']} / {outbound['encryption']} {outbound['integrity']}: SK_* and ESP keys equal charon's")


if __name__ == "__main__":
    main()
