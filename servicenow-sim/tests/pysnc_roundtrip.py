"""ServiceNow's own Python client, PySNC, against the simulator over https.

Usage: python3 pysnc_roundtrip.py INSTANCE_URL CA_FILE
Creates, queries (encoded query), updates and reads back an incident, once with the OAuth
password grant and once with Basic auth, trusting the simulator's certificate via CA_FILE.
"""

import sys

from pysnc import ServiceNowClient, ServiceNowPasswordGrantFlow

URL, CA_FILE = sys.argv[1], sys.argv[2]
USER, PASSWORD = "itsm.bridge", "sim-password-1"
CLIENT_ID, CLIENT_SECRET = "sim-client", "sim-client-secret"
GROUP = "477a05d153013010b846ddeeff7b1225"


def roundtrip(client, mode):
    created = client.GlideRecord("incident")
    created.initialize()
    created.short_description = f"PySNC round trip ({mode})"
    created.correlation_id = f"pysnc-{mode}"
    created.assignment_group = GROUP
    sys_id = created.insert()
    assert sys_id, "insert returned no sys_id"

    found = client.GlideRecord("incident")
    found.add_encoded_query(f"correlation_id=pysnc-{mode}^active=true")
    found.query()
    assert len(found) == 1, f"the encoded query found {len(found)} incidents"
    assert found.next()
    assert found.get_value("sys_id") == str(sys_id)
    assert found.get_display_value("assignment_group") == "Security Operations"
    found.state = "2"
    found.work_notes = "updated by PySNC"
    assert found.update(), "update failed"

    again = client.GlideRecord("incident")
    assert again.get(str(sys_id)), "the incident could not be read back"
    assert again.get_value("state") == "2", again.get_value("state")
    assert again.get_display_value("state") == "In Progress", again.get_display_value("state")
    assert again.get_value("correlation_id") == f"pysnc-{mode}"


passed = 0
for mode, auth in [
    ("oauth", ServiceNowPasswordGrantFlow(USER, PASSWORD, CLIENT_ID, CLIENT_SECRET)),
    ("basic", (USER, PASSWORD)),
]:
    roundtrip(ServiceNowClient(URL, auth, verify=CA_FILE), mode)
    print(f"PySNC round trip with {mode}: ok")
    passed += 1
print(f"{passed} passed, 0 failed")
