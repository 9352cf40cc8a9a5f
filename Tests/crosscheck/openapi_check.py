#!/usr/bin/env python3
"""Holds a running node's HTTP API to specs/openapi.yaml: every documented route answers, and every JSON
answer (success and error) validates against the schema the spec gives for its status code.

Usage: openapi_check.py BASE_URL ADMIN_TOKEN SPEC     (prints "N passed, M failed"; exit 1 on any failure)
"""
import http.client, json, sys, urllib.parse
import yaml
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

checks = {"passed": 0, "failed": 0}
def check(condition, what):
    checks["passed" if condition else "failed"] += 1
    if not condition: print("FAIL:", what)

def request(base, method, path, body=None, token=None):
    url = urllib.parse.urlparse(base)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    headers = {"Content-Type": "application/json"}
    if token: headers["Authorization"] = "Bearer " + token
    connection.request(method, path, body=body, headers=headers)
    response = connection.getresponse()
    data = response.read()
    return response.status, dict((k.lower(), v) for k, v in response.getheaders()), data

def main(base, token, spec_path):
    spec = yaml.safe_load(open(spec_path))
    validate(spec)
    check(True, "spec is valid OpenAPI")
    components = spec["components"]

    def schema_for(template, method, status):
        responses = spec["paths"][template][method]["responses"]
        response = responses.get(str(status))
        if response is None: return None
        if "$ref" in response: response = components["responses"][response["$ref"].split("/")[-1]]
        return response.get("content", {})

    def call(template, path, method="get", status=200, body=None, auth=None):
        code, headers, data = request(base, method.upper(), path, body, auth)
        check(code == status, "%s %s answered %d, expected %d: %s" % (method, path, code, status, data[:200]))
        content = schema_for(template, method, code)
        check(content is not None, "%s %s: status %d is not documented for %s" % (method, path, code, template))
        if not content: return data
        media = headers.get("content-type", "").split(";")[0]
        check(media in content, "%s %s: content type %s not documented" % (method, path, media))
        if media == "application/json":
            value = json.loads(data)
            schema = dict(content[media]["schema"]); schema["components"] = components
            errors = list(Draft202012Validator(schema).iter_errors(value))
            check(not errors, "%s %s: %s" % (method, path, "; ".join(e.message[:200] for e in errors[:3])))
            return value
        return data

    status = call("/api/v1/status", "/api/v1/status")
    node = status["node_id"]
    orgs = call("/api/v1/organizations", "/api/v1/organizations")["organizations"]
    lines = call("/api/v1/credit-lines", "/api/v1/credit-lines?from=" + node)["credit_lines"]
    check(orgs and lines, "the node has an organization and a credit line to check against")
    org, line = orgs[0]["id"], lines[0]
    block = call("/api/v1/blocks/{ref}", "/api/v1/blocks/1")
    tx = block["transactions"][0]["id"]
    call("/api/v1/blocks/{ref}", "/api/v1/blocks/" + block["hash"])
    call("/api/v1/blocks", "/api/v1/blocks?limit=2&before=%d" % status["height"])
    call("/api/v1/transactions/{id}", "/api/v1/transactions/" + tx)
    call("/api/v1/accounts/{id}", "/api/v1/accounts/" + node)
    call("/api/v1/accounts/{id}", "/api/v1/accounts/" + org)
    call("/api/v1/organizations/{id}", "/api/v1/organizations/" + org)
    call("/api/v1/credit-lines", "/api/v1/credit-lines?to=" + line["to"])
    call("/api/v1/credit-lines/{from}/{to}", "/api/v1/credit-lines/%s/%s" % (line["from"], line["to"]))
    call("/api/v1/credit-lines/{from}/{to}/history", "/api/v1/credit-lines/%s/%s/history?limit=5" % (line["from"], line["to"]))
    call("/api/v1/proofs/{key}", "/api/v1/proofs/" + node)
    call("/api/v1/proofs/{key}", "/api/v1/proofs/%s?height=0" % org)
    call("/api/v1/admin/node-key", "/api/v1/admin/node-key", auth=token)
    # Credit: the test node has a line granted by the node, an IOU, a settlement, a storage and a forwarding contract.
    grantee = line["to"]
    call("/api/v1/credit-path", "/api/v1/credit-path?from=%s&to=%s&amount=1" % (grantee, node))
    call("/api/v1/credit-path", "/api/v1/credit-path?from=%s&to=%s&amount=1" % (node, node), status=404)
    call("/api/v1/credit-path", "/api/v1/credit-path?from=%s" % node, status=400)
    call("/api/v1/credit-graph/{id}", "/api/v1/credit-graph/%s?depth=3" % node)
    call("/api/v1/netting", "/api/v1/netting")
    keepers = call("/api/v1/bookkeepers", "/api/v1/bookkeepers")
    check(keepers["bookkeepers"] and keepers["bookkeepers"][0]["chief"], "the set has a chief")
    call("/api/v1/bookkeepers", "/api/v1/bookkeepers?height=0")
    call("/api/v1/bookkeepers", "/api/v1/bookkeepers?height=99999999", status=404)
    call("/api/v1/bookkeepers", "/api/v1/bookkeepers?height=x", status=400)
    ious = call("/api/v1/ious", "/api/v1/ious?party=" + node)["ious"]
    check(ious, "the node holds an IOU")
    call("/api/v1/ious/{id}", "/api/v1/ious/" + ious[0]["id"])
    call("/api/v1/ious/{id}", "/api/v1/ious/" + node, status=404)
    check(call("/api/v1/settlements", "/api/v1/settlements?party=" + node)["settlements"], "the node has a settlement")
    contracts = call("/api/v1/contracts", "/api/v1/contracts?party=" + node)["contracts"]
    check({c["kind"] for c in contracts} == {"storage", "forward"}, "the node has both kinds of contract")
    for c in contracts: call("/api/v1/contracts/{id}", "/api/v1/contracts/" + c["id"])
    call("/api/v1/contracts/{id}", "/api/v1/contracts/" + node, status=404)
    call("/api/v1/contracts", "/api/v1/contracts", status=400)
    # Organizations: the test organization has one income event.
    call("/api/v1/organizations/{id}/income", "/api/v1/organizations/%s/income" % org)
    call("/api/v1/organizations/{id}/income", "/api/v1/organizations/%s/income?from=5&to=1" % org, status=400)
    event = call("/api/v1/organizations/{id}/income/{sequence}", "/api/v1/organizations/%s/income/1" % org)
    check(event["audit"]["verified"], "the income event verifies")
    call("/api/v1/organizations/{id}/income/{sequence}", "/api/v1/organizations/%s/income/99" % org, status=404)
    check(b"event,height,recipient,amount_bytes" in call("/api/v1/organizations/{id}/dividends.csv", "/api/v1/organizations/%s/dividends.csv" % org), "CSV header")
    call("/api/v1/organizations/{id}/dividends.csv", "/api/v1/organizations/%s/dividends.csv" % node, status=404)
    call("/api/v1/genesis", "/api/v1/genesis")
    # The peer-to-peer routes (a lone node: no peers, so lookups answer 404 or empty).
    local = call("/api/v1/swarm/local", "/api/v1/swarm/local")
    call("/api/v1/swarm/addrs", "/api/v1/swarm/addrs")
    call("/api/v1/swarm/peers", "/api/v1/swarm/peers")
    call("/api/v1/dht/peers/{peer}", "/api/v1/dht/peers/16Uiu2HAmPmuXqcJnCV3fGn3Jqcefbek13UfJREdjB9ZY7T6sJBGC", status=404, auth=token)  # test key 3 (specs/vectors/p2p.json): not in this network
    call("/api/v1/dht/peers/{peer}", "/api/v1/dht/peers/not-a-peer", status=400, auth=token)
    call("/api/v1/dht/providers/{key}", "/api/v1/dht/providers/" + "ab" * 32, auth=token)
    call("/api/v1/dht/providers/{key}", "/api/v1/dht/providers/nope", status=400, auth=token)
    call("/api/v1/dht/value", "/api/v1/dht/value?key=/pk/x", status=400, auth=token)
    call("/api/v1/dht/value", "/api/v1/dht/value?key=/ledgerd/addr/" + node, status=401)
    call("/api/v1/dht/value", "/api/v1/dht/value?key=/ledgerd/addr/" + node, status=404, auth=token)
    call("/api/v1/admin/swarm/connect", "/api/v1/admin/swarm/connect", "post", 401, body="{}")
    call("/api/v1/admin/swarm/connect", "/api/v1/admin/swarm/connect", "post", 400, body="{\"address\": \"nope\"}", auth=token)
    # A peer that is not there (test key 3, a closed loopback port): the dial fails, 502. The node's own
    # peer ID is the caller's mistake: 400.
    call("/api/v1/admin/swarm/connect", "/api/v1/admin/swarm/connect", "post", 502,
         body="{\"address\": \"/ip4/127.0.0.1/tcp/1/p2p/16Uiu2HAmPmuXqcJnCV3fGn3Jqcefbek13UfJREdjB9ZY7T6sJBGC\"}", auth=token)
    call("/api/v1/admin/swarm/connect", "/api/v1/admin/swarm/connect", "post", 400,
         body="{\"address\": \"/ip4/127.0.0.1/tcp/1/p2p/%s\"}" % local["peer_id"], auth=token)
    call("/api/v1/admin/swarm/disconnect", "/api/v1/admin/swarm/disconnect", "post", 404, body="{\"peer\": \"%s\"}" % local["peer_id"], auth=token)
    call("/api/v1/admin/swarm/disconnect", "/api/v1/admin/swarm/disconnect", "post", 400, body="{\"peer\": \"x\"}", auth=token)
    call("/api/v1/admin/dht/provide", "/api/v1/admin/dht/provide", "post", 200, body="{\"key\": \"%s\"}" % ("cd" * 32), auth=token)
    call("/api/v1/admin/dht/provide", "/api/v1/admin/dht/provide", "post", 400, body="{\"key\": \"x\"}", auth=token)
    call("/api/v1/admin/dht/value", "/api/v1/admin/dht/value", "post", 400, body="{\"record\": \"00\"}", auth=token)
    # Usage: nothing recorded yet for a peer never met; a bad peer ID is 400.
    call("/api/v1/usage", "/api/v1/usage")
    call("/api/v1/metering", "/api/v1/metering")
    call("/api/v1/usage/{peer}", "/api/v1/usage/" + local["peer_id"], status=404)
    call("/api/v1/usage/{peer}", "/api/v1/usage/not-a-peer", status=400)
    call("/api/v1/usage/{peer}", "/api/v1/usage/" + local["peer_id"] + "?limit=0", status=400)
    # The head exchange: no peer answers for an unknown MiMei; a capability that is not one is refused.
    call("/api/v1/admin/mimei/head", "/api/v1/admin/mimei/head", "post", 404, body="{\"mid\": \"%s\"}" % node, auth=token)
    call("/api/v1/admin/mimei/head", "/api/v1/admin/mimei/head", "post", 400, body="{\"mid\": \"%s\", \"capability\": \"00\"}" % node, auth=token)
    call("/api/v1/admin/mimei/head", "/api/v1/admin/mimei/head", "post", 401, body="{}")
    # Errors are documented too.
    call("/api/v1/blocks/{ref}", "/api/v1/blocks/99999999", status=404)
    call("/api/v1/blocks/{ref}", "/api/v1/blocks/not-a-hash", status=400)
    call("/api/v1/blocks", "/api/v1/blocks?limit=0", status=400)
    call("/api/v1/transactions/{id}", "/api/v1/transactions/" + "ab" * 32, status=404)
    call("/api/v1/accounts/{id}", "/api/v1/accounts/ld1nope", status=400)
    call("/api/v1/organizations/{id}", "/api/v1/organizations/" + node, status=404)
    call("/api/v1/credit-lines/{from}/{to}", "/api/v1/credit-lines/%s/%s" % (org, line["from"]), status=404)
    call("/api/v1/credit-lines/{from}/{to}/history", "/api/v1/credit-lines/%s/%s/history" % (org, line["from"]), status=404)
    call("/api/v1/credit-lines/{from}/{to}/history", "/api/v1/credit-lines/%s/%s/history?limit=1001" % (line["from"], line["to"]), status=400)
    call("/api/v1/proofs/{key}", "/api/v1/proofs/%s?height=99999999" % node, status=404)
    call("/api/v1/admin/node-key", "/api/v1/admin/node-key", status=401)
    call("/api/v1/admin/transactions", "/api/v1/admin/transactions", "post", 401, body="{}")
    call("/api/v1/admin/transactions", "/api/v1/admin/transactions", "post", 400, body="{\"tx\": \"00\"}", auth=token)
    # 400 versus 413: a body over 64 KiB is 413 before it is parsed; a transaction over 16 KiB inside a
    # smaller body is 400 too_large.
    call("/api/v1/admin/transactions", "/api/v1/admin/transactions", "post", 413, body="{\"tx\": \"%s\"}" % ("00" * 40000), auth=token)
    call("/api/v1/admin/transactions", "/api/v1/admin/transactions", "post", 400, body="{\"tx\": \"%s\"}" % ("00" * 20000), auth=token)
    call("/api/v1/admin/dht/provide", "/api/v1/admin/dht/provide", "post", 413, body="{\"key\": \"%s\"}" % ("a" * 70000), auth=token)
    # An error message is one line even when the input has newlines (the Error schema's pattern checks it).
    call("/api/v1/credit-lines", "/api/v1/credit-lines?from=ld1%0Anope", status=400)
    # The path gateway: this node's content store is empty and it has no peers (and a 1 s --fetch-timeout),
    # so a valid CID is 504 and a bad one 400; formats and scopes are refused before any fetch.
    call("/ipfs/{cid}", "/ipfs/QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o", status=504)
    call("/ipfs/{cid}", "/ipfs/not-a-cid", status=400)
    call("/ipfs/{cid}/{path}", "/ipfs/QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o/a/b", status=504)
    call("/ipfs/{cid}", "/ipfs/QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o?format=tar", status=406)
    # MiMei: a bad ID is 400; an ID known nowhere is 404.
    call("/mm/{mid}", "/mm/not-an-id", status=400)
    call("/tpt/{mid}", "/tpt/not-an-id", status=400)
    call("/tpt/{mid}/{path}", "/tpt/" + node + "/index.html", status=404)
    call("/mm/{mid}/{path}", "/mm/" + node + "/index.html", status=404)
    call("/mm/{mid}", "/mm/" + node + "?cap=zz", status=400)
    check(len(call("/download", "/download")) > 1000000, "/download serves the executable")
    call("/ipfs/{cid}", "/ipfs/QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o?cap=00", status=400)
    call("/ipfs/{cid}", "/ipfs/QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o?format=car&dag-scope=x", status=400)
    # Metrics and the explorer's pages.
    check(b"ledgerd_chain_height" in call("/metrics", "/metrics"), "metrics exposition")
    for template, path in (("/", "/"), ("/block/{ref}", "/block/1"), ("/tx/{id}", "/tx/" + tx), ("/account/{id}", "/account/" + node),
                           ("/org/{id}", "/org/" + org), ("/graph/{id}", "/graph/" + node), ("/org/{id}/income/{sequence}", "/org/%s/income/1" % org), ("/network", "/network"), ("/bookkeepers", "/bookkeepers")):
        check(b"<html" in call(template, path), path + " is HTML")
    check(b"<html" in call("/peer/{peer}", "/peer/" + local["peer_id"]), "/peer is HTML")
    check(b"<html" in call("/peer/{peer}", "/peer/not-a-peer", status=400), "/peer of a bad ID is an HTML 400 page")
    for template, path in (("/block/{ref}", "/block/p"), ("/tx/{id}", "/tx/0"), ("/org/{id}", "/org/nope"), ("/org/{id}/income/{sequence}", "/org/%s/income/x" % org)):
        check(b"<html" in call(template, path, status=400), path + " is an HTML 400 page")
    call("/search", "/search?q=1", status=303)
    call("/search", "/search?q=nothing", status=404)
    # Every served /api/v1 route is documented: an undocumented one does not exist.
    code, _, _ = request(base, "GET", "/api/v1/undocumented")
    check(code == 404, "an undocumented route answers 404")
    documented = {p for p in spec["paths"]}
    served = {"/api/v1/status", "/api/v1/blocks", "/api/v1/blocks/{ref}", "/api/v1/transactions/{id}", "/api/v1/accounts/{id}",
              "/api/v1/organizations", "/api/v1/organizations/{id}", "/api/v1/credit-lines", "/api/v1/credit-lines/{from}/{to}",
              "/api/v1/credit-lines/{from}/{to}/history", "/api/v1/proofs/{key}", "/api/v1/admin/transactions", "/api/v1/admin/node-key", "/metrics", "/", "/block/{ref}",
              "/tx/{id}", "/account/{id}", "/org/{id}", "/search", "/api/v1/credit-path", "/api/v1/credit-graph/{id}", "/api/v1/netting",
              "/api/v1/ious", "/api/v1/ious/{id}", "/api/v1/settlements", "/api/v1/contracts", "/api/v1/contracts/{id}", "/graph/{id}",
              "/api/v1/organizations/{id}/income", "/api/v1/organizations/{id}/income/{sequence}", "/api/v1/organizations/{id}/dividends.csv",
              "/api/v1/genesis", "/org/{id}/income/{sequence}", "/api/v1/swarm/local", "/api/v1/swarm/addrs", "/api/v1/swarm/peers",
              "/api/v1/dht/peers/{peer}", "/api/v1/dht/providers/{key}", "/api/v1/dht/value", "/api/v1/admin/swarm/connect",
              "/api/v1/admin/swarm/disconnect", "/api/v1/admin/dht/provide", "/api/v1/admin/dht/value", "/api/v1/admin/mimei/head", "/api/v1/usage", "/api/v1/usage/{peer}", "/api/v1/metering", "/peer/{peer}", "/network",
              "/api/v1/bookkeepers", "/bookkeepers", "/ipfs/{cid}", "/ipfs/{cid}/{path}", "/mm/{mid}", "/mm/{mid}/{path}", "/download", "/tpt/{mid}", "/tpt/{mid}/{path}"}
    check(documented == served, "documented routes differ from the checked ones: %s" % (documented ^ served))

    print("openapi: %d passed, %d failed" % (checks["passed"], checks["failed"]))
    return 1 if checks["failed"] else 0

if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
