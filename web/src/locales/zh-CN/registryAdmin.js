// 网关登记（新增、吊销、证书下载）、用户角色变更与审计日志分页的文字。
export default {
  "gatewayRegistry": {
    "add": "登记网关",
    "addTitle": "登记新网关",
    "id": "网关编号",
    "idHint": "例如 gw-line-2（同时作为证书的 CN）",
    "idPattern": "网关编号为 1–128 个字母、数字、“_”、“.” 或 “-”。",
    "site": "所属厂区",
    "noSite": "暂不指定",
    "auth": "认证方式",
    "auths": {"certificate": "客户端证书", "password": "用户名和密码"},
    "authNote": "证书方式会签发客户端证书，登记后可下载证书包（CA、证书、私钥）；密码方式生成的密码只显示一次。",
    "submit": "登记",
    "added": "网关 {id} 已登记，消息代理的访问控制列表已更新（代理重新加载后生效）。",
    "passwordTitle": "网关密码",
    "passwordLabel": "网关 {id} 的 MQTT 密码（只显示这一次）：",
    "registry": "登记状态",
    "registries": {"active": "在用", "revoked": "已吊销", "unregistered": "未登记"},
    "certExpires": "证书到期",
    "passwordAuth": "密码认证",
    "download": "下载证书",
    "downloaded": "网关 {id} 的证书包已下载；其中含私钥，请妥善保管。",
    "revoke": "吊销",
    "revokeTitle": "吊销网关 {id}",
    "revokeNote": "吊销后，接入服务立即拒收该网关的数据，消息代理重新加载访问控制列表后拒绝其写入。可以重新登记。",
    "revokeSubmit": "确认吊销",
    "revoked": "网关 {id} 已吊销。",
    "filter": "按网关、厂区或设备筛选",
    "actions": "登记操作",
    "footnote": "登记与吊销会写入审计日志，并与服务器上的 “carbonflow gateways add / revoke” 使用同一套逻辑更新消息代理的访问控制列表。"
  },
  "userRoles": {
    "edit": "角色与范围",
    "title": "{name} 的角色与数据范围",
    "dropNote": "权限降低时，该用户的所有会话将结束，API 令牌将被吊销。",
    "saved": "{name} 的角色已改为 {role}。",
    "savedRevoked": "{name} 的角色已改为 {role}，其会话和令牌已失效。"
  },
  "auditPages": {
    "total": "共 {n} 条记录",
    "timeOnly": "按时间排序作用于全部记录；每页显示 {n} 条。"
  }
};
