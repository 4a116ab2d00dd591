#!/usr/bin/env python3
"""Generate data/catalog.json and data/permission-guids.json (the reference copy plus ROLE_NOTES) from the research
notes in ../shared/reference (run once; the outputs are committed and compiled
into the binary, nothing reads ../shared at run time).

    python3 scripts/gen-catalog.py [REFERENCE_DIR]

What it changes relative to mde-api-catalog.json:
  * permission names are corrected to the values tokens carry (section 6a of
    mde-api-catalog.md); the documented spelling is kept in `doc_spelling`;
  * permissions become all-of groups of any-of sets (`application`,
    `delegated`); stop-and-quarantine needs two groups for app tokens;
  * a query-string template moves to `query`, a host written after the path
    moves to `host`, a trailing slash is dropped;
  * a row whose documented path repeats another row's path is marked
    `alias_of` that row (the matcher resolves the path to the other row);
  * `status` is `current` or `legacy`.
It fails if any permission name is not in the GUID list.
"""
import json
import os
import re
import sys

# Default: ../shared/reference beside the project root.
REF = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "reference")
OUT = os.path.join(os.path.dirname(__file__), "..", "data")

# Documented spelling -> the value tokens carry (mde-api-catalog.md section 6a).
CORRECT_APP = {
    "URL.Read.All": "Url.Read.All",
    "Alerts.ReadWrite.All": "Alert.ReadWrite.All",
}
CORRECT_DELEGATED = {
    "URL.Read.All": "Url.Read.All",
    "Machine.Read.All": "Machine.Read",
    "Machine.Read.Write": "Machine.ReadWrite",
    "RemediationTask.Read": "RemediationTasks.Read",
    "RemediationTask.Read.Read": "RemediationTasks.Read",
}
# Application permissions that are separate all-of groups (issue #6055).
APP_GROUPS = {
    ("POST", "/api/machines/{id}/StopAndQuarantineFile"): [
        ["Machine.StopAndQuarantine"],
        ["Machine.Read.All", "Machine.ReadWrite.All"],
    ],
}
GROUP_NOTE = ("mdeauth requires Machine.StopAndQuarantine AND one of Machine.Read.All/"
              "Machine.ReadWrite.All for app tokens: the service answered 403 without both (issue #6055)")
# Where the documentation leaves a call's permissions in doubt (section 6a
# of mde-api-catalog.md and the row's notes): `check`, `doctor` and `api`
# show this beside the call, allowed or not.
CALL_CAVEATS = {
    ("POST", "/api/machineactions/{machineActionId}/cancel"):
        "the docs accept any one of the action permissions without saying whether it must match "
        "the cancelled action's type (a 2021 report had Machine.CollectForensics alone refused): "
        "hold the permission of the action you cancel",
    ("GET", "/api/domains/{domain}/alerts"):
        "the current docs list only Alert.ReadWrite.All / Alert.ReadWrite, while an earlier "
        "revision and the sibling alert pages accept Alert.Read.All / Alert.Read (possibly a doc "
        "inconsistency, not verified against the service): `mdeauth probe` shows what it accepts",
    ("GET", "/api/users/{id}/machines"):
        "the current docs list only Machine.ReadWrite.All / Machine.ReadWrite, while an earlier "
        "revision accepted Machine.Read.All / Machine.Read (possibly a doc inconsistency, not "
        "verified against the service): `mdeauth probe` shows what it accepts",
    ("GET", "/api/indicators"):
        "the docs do not mention Ti.Read.All for this call, though the app role exists; whether "
        "the service accepts it is not verified: `mdeauth probe` shows what it accepts",
}
# Rows whose documented path is a copy of another row's path: (method, path, source file).
ALIASES = {("GET", "/api/machines/InfoGatheringExport",
            "device-health-export-antivirus-health-report-api.md")}

# What the tool adds to the reference GUID file: what a permission does not
# reach (caveat), and the legacy portal roles no app can hold.
ROLE_NOTES = {
    "Ti.ReadWrite": {
        "caveat": "reaches only the indicators this app submitted itself: it does not see, update or delete indicators created in the portal or by other apps (list-indicators: \"With Ti.ReadWrite.All the app sees all indicators, otherwise only those it created\")"
    },
    "readonly": {
        "allowedMemberTypes": [
            "User"
        ],
        "note": "a legacy WDATP portal role assigned to users, not an application permission: no app can be granted it (mde-api-catalog.md section 6a)"
    },
    "secop": {
        "allowedMemberTypes": [
            "User"
        ],
        "note": "a legacy WDATP portal role assigned to users, not an application permission: no app can be granted it (mde-api-catalog.md section 6a)"
    }
}

HOSTS = [
    "api.security.microsoft.com",
    "us.api.security.microsoft.com",
    "eu.api.security.microsoft.com",
    "uk.api.security.microsoft.com",
    "au.api.security.microsoft.com",
    "swa.api.security.microsoft.com",
    "api.securitycenter.microsoft.com",
    "api-us.securitycenter.microsoft.com",
    "api-eu.securitycenter.microsoft.com",
    "api-uk.securitycenter.microsoft.com",
    "api-au.securitycenter.microsoft.com",
    "api-gcc.securitycenter.microsoft.us",
    "api-gov.securitycenter.microsoft.us",
    "api.securitycenter.windows.com",
    # A WindowsDefenderATP identifier URI (mde-api-catalog.md section 3.2) that
    # no page uses as a call host; accepted so that a call written with it resolves.
    "api.securitycenter.windows.us",
]


def slug(s):
    return re.sub(r"[^a-z0-9]+", "-", s.lower()).strip("-")


def main():
    rows = json.load(open(os.path.join(REF, "mde-api-catalog.json")))
    guids = json.load(open(os.path.join(REF, "mde-permission-guids.json")))
    roles = {r["value"] for r in guids["application_roles"]}
    scopes = {s["value"] for s in guids["delegated_scopes"]}

    calls, ids = [], set()
    for r in rows:
        method, path = r["method"].upper(), r["path"].strip()
        host = None
        m = re.match(r"^(\S+)\s+\(([a-z0-9.-]+)\)$", path)
        if m:
            path, host = m.group(1), m.group(2)
        query = None
        if "?" in path:
            path, query = path.split("?", 1)
        if len(path) > 1:
            path = path.rstrip("/")
        spelled = []

        def fix(names, table, ctx):
            out = []
            for n in names:
                real = table.get(n, n)
                if real != n:
                    spelled.append({"context": ctx, "documented": n, "actual": real})
                if real not in out:
                    out.append(real)
            return out

        app = fix(r["application_permissions"], CORRECT_APP, "application")
        dele = fix(r["delegated_permissions"], CORRECT_DELEGATED, "delegated")
        if "Alerts.ReadWrite.All" in r["notes"] and not spelled:
            spelled.append({"context": "application", "documented": "Alerts.ReadWrite.All",
                            "actual": "Alert.ReadWrite.All"})
        notes = r["notes"]
        if (method, path) in APP_GROUPS:
            app_groups = APP_GROUPS[(method, path)]
            assert sorted(sum(app_groups, [])) == sorted(app), (path, app)
            notes = (notes + " | " if notes else "") + GROUP_NOTE
        else:
            app_groups = [app] if app else []
        for n in sum(app_groups, []):
            assert n in roles, f"{path}: application permission {n} is not an app role"
        for n in dele:
            assert n in scopes, f"{path}: delegated permission {n} is not a scope"
        cid = slug(r["call_name"])
        if cid in ids:
            cid = slug(f'{r["call_name"]} {method}')
        assert cid not in ids, cid
        ids.add(cid)
        status = "current" if r["status"] == "current" else "legacy"
        calls.append({
            "id": cid,
            "area": r["area"],
            "name": r["call_name"],
            "method": method,
            "path": path,
            "query": query,
            "host": host,
            "application": app_groups,
            "delegated": [dele] if dele else [],
            "rbac": r["user_rbac_permission"] or None,
            "rate_limit": r["rate_limit"] or None,
            "source": r["source_path"],
            "doc_date": r["doc_ms_date"] or None,
            "status": status,
            "notes": notes or None,
            "caveat": CALL_CAVEATS.get((method, path)),
            "doc_spelling": spelled,
            "alias_of": None,
        })

    # Rows sharing one method and path (compared case-insensitively).
    seen = {}
    for c in calls:
        key = (c["method"], c["path"].lower(), c["host"])
        if key in seen:
            a, b = seen[key], c
            def is_alias(x):
                return (x["method"], x["path"], os.path.basename(x["source"])) in ALIASES
            alias, target = (a, b) if is_alias(a) else (b, a)
            assert is_alias(alias) and not is_alias(target), key
            assert alias["application"] == target["application"], key
            assert alias["delegated"] == target["delegated"], key
            alias["alias_of"] = target["id"]
        else:
            seen[key] = c

    used = {(c["method"], c["path"]) for c in calls if c["caveat"]}
    assert used == set(CALL_CAVEATS), set(CALL_CAVEATS) - used
    doc = {
        "_source": "Generated by scripts/gen-catalog.py from ../shared/reference/mde-api-catalog.json "
                   "(Microsoft's defender-docs API pages, read early 2026). Permission names are the values "
                   "tokens carry; doc_spelling keeps the documentation's spelling where it differs. "
                   "application/delegated are all-of lists of any-of groups.",
        "hosts": HOSTS,
        "calls": calls,
    }
    with open(os.path.join(OUT, "catalog.json"), "w") as f:
        json.dump(doc, f, indent=1, ensure_ascii=False)
        f.write("\n")
    # Copied with the project's own annotations (ROLE_NOTES); the
    # app-registration lint reads it too.
    guid_doc = json.load(open(os.path.join(REF, "mde-permission-guids.json")))
    for role in guid_doc["application_roles"]:
        extra = ROLE_NOTES.get(role["value"])
        if extra:
            # Inserted after the key each note follows, so the file reads naturally.
            after = "displayName" if "caveat" in extra else "id"
            items = list(role.items())
            at = [k for k, _ in items].index(after) + 1
            role.clear()
            role.update(items[:at] + list(extra.items()) + items[at:])
    with open(os.path.join(OUT, "permission-guids.json"), "w") as f:
        json.dump(guid_doc, f, indent=1, ensure_ascii=False)
    print(f"{len(calls)} calls, {sum(1 for c in calls if c['status'] == 'legacy')} legacy")


if __name__ == "__main__":
    main()
