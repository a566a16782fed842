// Gateway registry (register, revoke, certificate download), changing a user's role and the audit log's pages.
export default {
  "gatewayRegistry": {
    "add": "Register a gateway",
    "addTitle": "Register a new gateway",
    "id": "Gateway id",
    "idHint": "e.g. gw-line-2 (also its certificate's CN)",
    "idPattern": "A gateway id is 1 to 128 letters, digits, '_', '.' or '-'.",
    "site": "Site",
    "noSite": "None yet",
    "auth": "Authentication",
    "auths": {"certificate": "Client certificate", "password": "User name and password"},
    "authNote": "A certificate gateway gets a client certificate: download its bundle (CA, certificate, key) from the list. A password gateway's password is shown once.",
    "submit": "Register",
    "added": "Gateway {id} is registered and the broker's access list rewritten (it applies when the broker reloads).",
    "passwordTitle": "Gateway password",
    "passwordLabel": "The MQTT password of gateway {id} (shown only this once):",
    "registry": "Registry",
    "registries": {"active": "Active", "revoked": "Revoked", "unregistered": "Not registered"},
    "certExpires": "Certificate expires",
    "passwordAuth": "Password",
    "download": "Certificate",
    "downloaded": "The certificate bundle of {id} is downloaded; it holds the private key: keep it safe.",
    "revoke": "Revoke",
    "revokeTitle": "Revoke gateway {id}",
    "revokeNote": "Ingest refuses its data at once, and the broker its writes once it reloads its access list. It can be registered again.",
    "revokeSubmit": "Revoke",
    "revoked": "Gateway {id} is revoked.",
    "filter": "Filter by gateway, site or device",
    "actions": "Registry actions",
    "footnote": "Registering and revoking are audited and rewrite the broker's access list with the same code as \"carbonflow gateways add / revoke\" on the server."
  },
  "userRoles": {
    "edit": "Role and scope",
    "title": "Role and scope of {name}",
    "dropNote": "When privileges drop, the user's sessions end and its API tokens are revoked.",
    "saved": "{name} is now {role}.",
    "savedRevoked": "{name} is now {role}; its sessions and tokens have ended."
  },
  "auditPages": {
    "total": "{n} entries",
    "timeOnly": "Sorting by time applies to every entry; {n} per page."
  }
};
