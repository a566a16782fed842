// 中文（默认）：the web app's Chinese messages; the keys match ../en/index.js one for one.
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
    "overview": "工厂总览",
    "series": "数据查询",
    "devices": "设备状态",
    "logout": "退出登录",
    "menu": "菜单",
    "noPages": "您的角色暂无可用页面。"
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
    "never": "从未上线"
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
  }
};
