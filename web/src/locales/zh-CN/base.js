// The core pages' texts (plant, alarms, administration).
export default {
  "app": {
    "title": "carbonflow",
    "tagline": "工业碳管理平台"
  },
  "lang": {
    "switch": {
      "label": "English",
      "title": "Switch to English"
    },
    "label": "语言"
  },
  "nav": {
    "group": {"plant": "厂区", "accounting": "核算与报告", "government": "政府监管", "admin": "系统管理"},
    "overview": "工厂总览",
    "series": "数据查询",
    "devices": "设备状态",
    "logout": "退出登录",
    "menu": "菜单",
    "noPages": "您的角色暂无可用页面。",
    "alarms": "告警",
    "gateways": "网关",
    "audit": "审计日志",
    "users": "用户与角色",
    "tokens": "API 令牌"
  },
  "login": {
    "heading": "登录",
    "intro": "登录后查看您负责的工厂。",
    "username": "用户名",
    "password": "密码",
    "totp": {
      "label": "动态验证码（6 位）",
      "hint": "此账号已启用两步验证：请输入身份验证器显示的验证码。"
    },
    "submit": "登录",
    "ended": "会话已结束，请重新登录。",
    "loggedout": "您已退出登录。",
    "sso": "单点登录（SSO）"
  },
  "password": {
    "heading": "设置新密码",
    "intro": "至少 12 个字符，包含小写、大写、数字、符号中的三类，且不能与最近 5 次密码相同。",
    "current": "当前密码",
    "new": "新密码",
    "repeat": "再次输入新密码",
    "submit": "修改密码",
    "differ": "两次输入的新密码不一致。"
  },
  "problem": {
    "400": "请求有误",
    "401": "身份验证未通过",
    "403": "无权执行此操作",
    "404": "未找到",
    "409": "与当前状态冲突",
    "410": "已不存在",
    "413": "文件或内容过大",
    "415": "不支持的文件类型",
    "422": "输入无效",
    "423": "已锁定",
    "429": "请求过于频繁，请稍后再试",
    "500": "服务器出错",
    "502": "上游服务不可用",
    "503": "服务暂不可用，请稍后再试",
    "other": "请求失败（{status}）"
  },
  "common": {
    "site": "厂区",
    "loading": "加载中…",
    "none": "—",
    "refresh": "刷新",
    "updated": "更新于 {time}",
    "noData": "该时间范围内没有数据。",
    "error": "加载失败：{message}",
    "notAllowed": "您的角色无权查看此页面。",
    "noSites": "您没有可查看的厂区。",
    "share": "占比",
    "total": "合计",
    "unit": "单位",
    "device": "设备",
    "point": "测点",
    "value": "数值",
    "quality": "质量",
    "time": "时间",
    "process": "工序",
    "source": "排放源",
    "chartsOff": "图表加载失败，数据以表格显示。"
  },
  "live": {
    "connected": "实时",
    "connecting": "连接中…",
    "offline": "重新连接中…",
    "polling": "每 10 秒更新"
  },
  "overview": {
    "title": "工厂总览",
    "subtitle": "{site} · {day}（{tz}）",
    "power": {
      "label": "实时功率",
      "sub": "{n} 块电表 · 截至 {time}",
      "none": "最近 10 分钟没有功率读数",
      "na": "您的角色不包含此项"
    },
    "co2": {
      "label": "今日 CO₂ 排放",
      "sub": "{n} 个排放源 · 自 00:00 起"
    },
    "production": {
      "label": "今日粗钢产量",
      "sub": "来自产量计数器",
      "none": "没有产量计数器"
    },
    "intensity": {
      "label": "CO₂ 排放强度",
      "unit": "tCO₂/吨粗钢"
    },
    "benchmark": {
      "label": "基准值 {value}",
      "none": "该厂区尚未设置基准值",
      "above": "▲ 高于基准 {pct}",
      "below": "▼ 低于基准 {pct}"
    },
    "alarms": {
      "label": "当前报警",
      "none": "没有当前报警",
      "sub": "本厂区"
    },
    "byProcess": "今日 CO₂ 排放（按工序）",
    "bySource": "今日 CO₂ 排放（按排放源）",
    "trend": {
      "label": "实时功率",
      "sub": "最近 60 分钟，kW"
    },
    "vsBenchmark": {
      "label": "排放强度与基准对比",
      "value": "今日",
      "benchmark": "基准值"
    },
    "meters": "功率表计",
    "alarmList": "报警",
    "factors": {
      "label": "今日使用的排放因子：{list}",
      "none": "今日尚无排放记录。"
    },
    "benchmarkSource": "基准来源：{source}",
    "noCo2": "今日尚无排放记录。",
    "alarm": {
      "message": "内容",
      "since": "开始时间",
      "severity": "级别"
    },
    "compare": {
      "label": "本月至今 CO₂ 排放",
      "sub": "tCO₂，与上月同期（环比）及去年同月同期（同比）对比",
      "current": "本月",
      "mom": "上月同期",
      "momChange": "环比",
      "yoy": "去年同期",
      "yoyChange": "同比",
      "noBase": "基期无数据",
      "none": "本月及基期尚无排放记录。",
      "spans": "本月 {current}；上月 {mom}；去年 {yoy}"
    }
  },
  "severity": {
    "info": "提示",
    "warning": "警告",
    "critical": "严重"
  },
  "series": {
    "title": "数据查询",
    "subtitle": "单个测点的原始读数或汇总数据，可导出 CSV",
    "device": "设备",
    "point": "测点",
    "range": {
      "label": "时间范围",
      "1h": "1 小时",
      "6h": "6 小时",
      "24h": "24 小时",
      "7d": "7 天",
      "30d": "30 天",
      "1y": "1 年",
      "custom": "自定义"
    },
    "from": "开始",
    "to": "结束",
    "interval": {
      "label": "汇总间隔",
      "raw": "原始",
      "1m": "1 分钟",
      "1h": "1 小时",
      "1d": "1 天",
      "1mo": "1 月"
    },
    "export": {
      "label": "导出 CSV",
      "hint": "按小时（或所选间隔）汇总，文件头注明排放因子版本"
    },
    "exporting": "正在导出…",
    "rawTooLong": "原始读数最多查询 7 天，请选择 1 分钟、1 小时或 1 天。",
    "stats": {
      "count": "数据点",
      "min": "最小值",
      "max": "最大值",
      "mean": "平均值",
      "last": "最新值"
    },
    "table": "数据表",
    "noPoints": "该设备暂无测点。",
    "noDevices": "您没有可查看的设备。",
    "band": "最小–最大",
    "status": "{kind} · {interval}",
    "pickPoint": "选择测点"
  },
  "devices": {
    "title": "设备状态",
    "subtitle": "最近通信时间与读数质量",
    "window": {
      "label": "统计时段",
      "1": "最近 1 小时",
      "24": "最近 24 小时",
      "168": "最近 7 天"
    },
    "status": "状态",
    "site": "厂区",
    "gateway": "网关",
    "lastSeen": "最近通信",
    "readings": "读数质量分布",
    "points": "测点",
    "good": "正常",
    "uncertain": "可疑",
    "bad": "无效",
    "goodShare": "正常读数占比",
    "none": "您没有可查看的设备。",
    "lastValue": "最新值",
    "showPoints": "查看测点",
    "gateways": "网关",
    "backlog": "缓存积压",
    "oldestUnsent": "最早未发送 (秒)",
    "dropped": "溢出丢弃",
    "agent": "采集程序版本",
    "noGateways": "您没有可查看的网关。"
  },
  "status": {
    "online": "在线",
    "stale": "延迟",
    "offline": "离线",
    "never": "从未上线",
    "unreported": "未上报状态"
  },
  "quality": {
    "good": "正常",
    "uncertain": "可疑",
    "bad": "无效"
  },
  "ago": {
    "s": "{n} 秒前",
    "m": "{n} 分钟前",
    "h": "{n} 小时前",
    "d": "{n} 天前",
    "never": "从未"
  },
  "term": {
    "steelmaking": "炼钢",
    "rolling": "轧钢",
    "auxiliary": "辅助系统",
    "sintering": "烧结",
    "pelletising": "球团",
    "coking": "炼焦",
    "ironmaking": "炼铁",
    "unassigned": "未分配",
    "electricity": "外购电力",
    "heat": "外购热力",
    "natural_gas": "天然气",
    "coke_oven_gas": "焦炉煤气",
    "blast_furnace_gas": "高炉煤气",
    "converter_gas": "转炉煤气",
    "anthracite": "无烟煤",
    "bituminous_coal": "烟煤",
    "coke": "焦炭",
    "diesel": "柴油",
    "fuel_oil": "燃料油",
    "crude_steel": "粗钢",
    "power_plant": "自备电厂",
    "site": "全厂",
    "steam": "蒸汽",
    "production": "产量"
  },
  "role": {
    "government": "政府监管",
    "enterprise": "企业用户",
    "auditor": "核查机构",
    "technician": "运维技术员",
    "admin": "系统管理员"
  },
  "kind": {
    "gauge": "瞬时量",
    "counter": "累计量"
  },
  "form": {
    "cancel": "取消",
    "save": "保存",
    "close": "关闭",
    "tooLong": "最多 {n} 个字符。"
  },
  "alarms": {
    "title": "告警",
    "subtitle": "确认、手动清除告警，设置测点的量程",
    "acknowledged": "告警 {id} 已确认。",
    "cleared": "告警 {id} 已清除。",
    "state": "状态",
    "states": {
      "active": "未清除",
      "cleared": "已清除",
      "all": "全部"
    },
    "allSites": "全部厂区",
    "rule": "规则",
    "allRules": "全部规则",
    "none": "没有符合条件的告警。",
    "raised": "发生时间",
    "acknowledgedBy": "确认",
    "notAcknowledged": "未确认",
    "clearedBy": "清除",
    "byRule": "规则自动清除",
    "platform": "平台告警",
    "enterpriseOf": "企业 {id}",
    "regionOf": "地区 {code}",
    "actions": "操作",
    "acknowledge": "确认",
    "clear": "清除",
    "clearTitle": "手动清除告警",
    "comment": "清除原因",
    "commentNeeded": "请填写清除原因（随告警及审计日志保存）。"
  },
  "rule": {
    "device_offline": "设备离线",
    "bad_data": "坏数据",
    "stuck_value": "数值不变",
    "counter_reset": "累计量回退",
    "data_gap": "数据缺失",
    "out_of_range": "超出量程",
    "implausible_reading": "不合理读数",
    "cems_calibration": "CEMS 校准",
    "spool_overflow": "网关缓存溢出",
    "gateway_offline": "网关离线",
    "monitoring_sync_failed": "中间库同步失败",
    "monitoring_job_failed": "监测定时任务失败（重算或计量月度数据）",
    "deficit_projected": "预计配额缺口",
    "compliance_deadline": "履约/交易截止提醒",
    "target_off_track": "目标持有方偏离进度",
    "two_high_exceeded": "两高项目超出核定能耗或排放"
  },
  "implausible": {
    "title": "不合理的累计量读数",
    "subtitle": "已标为坏数据、不计入核算：负值，或上升快于测点的上限。经现场核实表计后可接受上升，其所在小时将重新计算。",
    "states": {
      "open": "待处理",
      "accepted": "已接受",
      "all": "全部"
    },
    "none": "没有不合理读数。",
    "reason": "原因",
    "reasons": {
      "negative": "负值",
      "rise": "上升过快"
    },
    "accept": "接受上升",
    "accepted": "读数 {id} 已接受（连同其后 {n} 条）；相关小时将重新计算。",
    "acceptTitle": "接受上升",
    "rise": "从 {from} 到 {to} {unit}；上限每小时 {limit} {unit}",
    "comment": "核实情况",
    "commentNeeded": "请说明核实了什么：为何该上升是真实的。"
  },
  "ranges": {
    "open": "量程",
    "title": "测量量程",
    "now": "当前 {low} 至 {high} {unit}",
    "sources": {
      "manual": "手动设置",
      "profile": "来自设备模板",
      "none": "模板未给出",
      "default": "默认值",
      "pending": "尚未读取"
    },
    "low": "下限（{unit}）",
    "high": "上限（{unit}）",
    "riseNow": "上升上限每小时 {value} {unit}",
    "rise": "上升上限（每小时 {unit}）",
    "saveRise": "保存上升上限",
    "readOnly": "您的角色可查看量程；由运维技术员和管理员设置。",
    "saved": "已保存。",
    "resetDone": "已恢复为设备模板的量程。",
    "reset": "恢复模板量程",
    "notNumber": "请输入数字，留空表示该侧不设限。",
    "oneSide": "请填写下限、上限或两者。",
    "lowBelowHigh": "下限必须小于上限。",
    "risePositive": "上升上限必须是大于 0 的数字。"
  },
  "audit": {
    "title": "审计日志",
    "subtitle": "谁在何时、从何处对什么做了什么",
    "actor": "用户",
    "actorHint": "用户名",
    "action": "操作",
    "span": "时间范围",
    "search": "查询",
    "reset": "清空条件",
    "actionPattern": "填写操作，如 user.create，或一类操作，如 auth.*",
    "newest": "最近 {n} 条；请缩小条件，或导出 CSV 获取全部。",
    "count": "共 {n} 条",
    "none": "没有符合条件的记录。",
    "viaToken": "通过令牌 {id}",
    "kinds": {
      "user": "登录用户",
      "token": "机器令牌",
      "system": "系统",
      "anonymous": "未登录"
    },
    "target": "对象",
    "outcome": "结果",
    "outcomes": {
      "ok": "成功",
      "denied": "拒绝",
      "rejected": "驳回"
    },
    "ip": "地址",
    "change": "详情"
  },
  "secret": {
    "once": "仅显示这一次，请立即保存，之后无法再次查看。",
    "copied": "已复制",
    "copy": "复制",
    "stored": "我已保存"
  },
  "users": {
    "title": "用户与角色",
    "subtitle": "账号、角色及各自可见的数据范围",
    "create": "新建用户",
    "scopeTitle": "{name} 的数据范围",
    "usernamePattern": "3 至 64 个字符：小写字母、数字、点、下划线、at 符号或连字符，以字母或数字开头。",
    "regionNeeded": "政府监管用户需要行政区划代码，如 CN-ZJ。",
    "enterpriseNeeded": "企业用户需要所属企业的编号。",
    "enterprisesPattern": "以逗号分隔的企业编号（字母、数字、点、下划线、连字符）。",
    "username": "用户名",
    "role": "角色",
    "password": "密码",
    "passwordHint": "留空则生成一次性密码",
    "region": "行政区划",
    "enterprise": "企业",
    "enterprises": "指派的企业",
    "enterprisesHint": "企业编号，以逗号分隔",
    "noScope": "该角色可查看所有厂区。",
    "filter": "按用户名或角色筛选",
    "unassigned": "尚未指派",
    "everything": "全部厂区",
    "oneTimeTitle": "一次性密码",
    "oneTime": "{name} 用此密码登录一次，随后须设置新密码。",
    "scopeSaved": "{name} 的数据范围已修改。",
    "created": "用户 {name} 已创建。",
    "enabled": "{name} 已启用。",
    "disabledDone": "{name} 已停用：其会话已结束，令牌已失效。",
    "passwordReset": "{name} 的密码已重置。",
    "scope": "数据范围",
    "disabled": "已停用",
    "active": "正常",
    "mustChange": "须修改密码",
    "totp": "两步验证",
    "createdAt": "创建时间",
    "editScope": "数据范围",
    "resetPassword": "重置密码",
    "enable": "启用",
    "disable": "停用",
    "resetTitle": "重置 {name} 的密码",
    "resetNote": "该用户下次登录时须修改密码；其现有会话立即结束。"
  },
  "tokens": {
    "title": "API 令牌",
    "subtitle": "供机器（ERP 导出、脚本）以您的身份调用 API 的令牌",
    "nameNeeded": "请按使用它的系统为令牌命名。",
    "scopesNeeded": "请至少选择一项权限。",
    "created": "令牌 {name} 已创建。",
    "secretTitle": "新令牌",
    "secretLabel": "{name} 以 \"Authorization: Bearer …\" 发送。",
    "revoked": "令牌 {name} 已吊销。",
    "create": "新建令牌",
    "none": "您还没有令牌。",
    "name": "名称",
    "nameHint": "如 ERP 导出",
    "scopes": "权限",
    "states": {
      "active": "有效",
      "revoked": "已吊销",
      "expired": "已过期"
    },
    "expires": "到期时间",
    "lastUsed": "最近使用",
    "revokeAsk": "吊销 {name}？使用它的机器将无法访问。",
    "revoke": "吊销",
    "days": "有效期（天）"
  },
  "permission": {
    "health": "健康检查",
    "devices": "设备",
    "gateways": "网关",
    "live": "实时数据",
    "series": "数据序列",
    "emissions": "排放",
    "audit": "审计日志",
    "users": "用户",
    "benchmarks": "基准值",
    "alarms": "告警",
    "alarm_actions": "告警处理",
    "hierarchy": "企业与厂区",
    "ingest": "数据接入",
    "point_ranges": "测点量程",
    "efficiency_code": "碳效码",
    "monitoring": "监测",
    "monitoring_data": "监测数据",
    "monitoring_review": "监测审核",
    "monitoring_sync": "中间库同步",
    "grid_factors": "电碳因子",
    "projects": "减排项目",
    "project_verify": "项目核查",
    "assets": "碳资产",
    "asset_alarms": "碳资产告警检查",
    "target_alarms": "碳目标偏离告警检查",
    "activity_data": "活动数据录入",
    "gateway_registry": "网关登记管理",
    "efficiency_code_view": "碳账户与碳效码",
    "efficiency_code_compute": "计算碳效码"
  },
  "gateways": {
    "title": "网关登记",
    "subtitle": "边缘网关、最近通信时间及其所连设备",
    "deviceNeeded": "请选择要迁移的设备。",
    "gatewayNeeded": "请选择目标网关。",
    "moved": "{device} 已从 {from} 迁移到 {to}。",
    "move": "迁移设备",
    "firstSeen": "首次通信",
    "devices": "设备",
    "to": "目标网关",
    "noTarget": "该设备所在厂区没有其他在用网关。",
    "moveNote": "此后只接受新网关上报的该设备读数，原网关的读数将被隔离。",
    "moveSubmit": "迁移",
    "cli": "网关的登记、吊销及证书签发在服务器上用 \"carbonflow gateways add\" 和 \"carbonflow gateways revoke\" 完成，同时更新消息代理的访问控制列表。"
  }
};
