// 降碳项目与碳资产页面（views/projects/、views/assets/）的中文。
export default {
  "projectsNav": {
    "projects": "降碳项目",
    "assets": "碳资产"
  },
  "projects": {
    "title": "降碳项目",
    "subtitle": "立项 → 实施 → 验收 → 备案/认证，减排量按 GB/T 33760 逐个监测期核算",
    "create": "新建项目",
    "created": "已登记项目「{name}」",
    "exportCsv": "导出 CSV",
    "exportXlsx": "导出 Excel",
    "kind": "项目类型",
    "stage": "阶段",
    "allKinds": "全部类型",
    "allStages": "全部阶段",
    "name": "项目名称",
    "enterprise": "业主企业",
    "budget": "预算",
    "spent": "已支出",
    "spentShare": "资金执行",
    "noBudget": "无预算",
    "none": "暂无项目",
    "gridRegion": "所属区域电网",
    "budgetYuan": "预算（元）",
    "capacity": "装机容量（kW）",
    "yuan": "元",
    "kinds": {
      "grid_pv": "并网光伏",
      "wind": "风电",
      "energy_efficiency": "节能改造",
      "fuel_switch": "燃料替代",
      "ccer": "CCER 项目",
      "carbon_sink": "碳汇",
      "two_high": "两高项目"
    },
    "stages": {
      "initiated": "立项",
      "implementing": "实施",
      "accepted": "验收",
      "filed": "备案/认证"
    },
    "grids": {
      "north": "华北电网",
      "northeast": "东北电网",
      "east": "华东电网",
      "central": "华中电网",
      "northwest": "西北电网",
      "south": "南方电网"
    },
    "roles": {
      "export": "上网电量计量",
      "import": "下网电量计量",
      "activity": "项目消耗：{activity}"
    },
    "activities": {
      "electricity": "电力",
      "diesel": "柴油",
      "natural_gas": "天然气",
      "coal": "煤",
      "gasoline": "汽油",
      "fuel_oil": "燃料油",
      "lpg": "液化石油气"
    },
    "form": {
      "enterpriseNeeded": "请选择业主企业",
      "nameNeeded": "请填写项目名称",
      "kindNeeded": "请选择项目类型",
      "regionNeeded": "请选择区域电网",
      "budgetNeeded": "请填写预算（可为 0）"
    },
    "detail": {
      "back": "返回列表",
      "lifecycle": "项目生命周期",
      "comment": "阶段变更说明（可选）",
      "moveTo": "进入「{stage}」",
      "moved": "项目已进入「{stage}」阶段",
      "complete": "生命周期已完成",
      "metering": "计量点与核查",
      "verifiers": "核查机构",
      "noVerifier": "未指派",
      "noPoints": "尚未绑定计量点",
      "meter": "计量点",
      "role": "用途",
      "boundAt": "绑定时间",
      "verifierHint": "核查机构用户名",
      "assign": "指派核查机构",
      "verifierAssigned": "已指派核查机构 {name}"
    },
    "docs": {
      "title": "项目文档",
      "upload": "上传「{stage}」文档",
      "uploaded": "已上传 {name}",
      "uploadedHash": "已上传 {name}，SHA-256 {hash}…",
      "none": "暂无文档",
      "file": "文件"
    },
    "funds": {
      "title": "资金：预算与支出",
      "summary": "已支出 {spent} / 预算 {budget} 元",
      "chartLabel": "预算与已支出对比图",
      "amount": "金额（元）",
      "date": "支出日期",
      "note": "说明",
      "record": "记录支出",
      "recorded": "已记录支出 {amount} 元",
      "amountNeeded": "请填写大于 0 的金额",
      "dateNeeded": "请选择日期"
    },
    "periods": {
      "title": "监测期减排量",
      "help": "ER = BE − PE − LE：BE 由上网净电量 × 组合边际排放因子（EF_CM = w_OM·EF_OM + w_BM·EF_BM）或被替代的基准活动得出，PE 来自项目计量的燃料与电力，LE 需填写理由。点击监测期查看数据来源与核证记录。",
      "months": "监测期（月）",
      "from": "起始月",
      "to": "结束月",
      "leakage": "泄漏 LE（tCO2e）",
      "justification": "泄漏理由",
      "baseline": "基准活动（被替代）",
      "activityHint": "如 electricity",
      "quantity": "数量",
      "compute": "核算",
      "computed": "已核算：ER = {er} tCO2e",
      "monthsNeeded": "请选择起止月份（同一年内）",
      "justificationNeeded": "填写了泄漏量时须说明理由",
      "chartLabel": "各监测期 BE、PE、LE 与 ER",
      "none": "尚未核算监测期",
      "period": "监测期",
      "status": "状态",
      "issued": "签发量（t）",
      "statuses": {
        "computed": "已核算",
        "submitted": "待核查",
        "verified": "已核查",
        "refused": "核查未通过",
        "certified": "已认证"
      },
      "actions": {
        "submit": "提交核查",
        "verify": "核查通过",
        "refuse": "核查不通过",
        "certify": "认证签发",
        "comment": "评论"
      },
      "done": {
        "submit": "已提交核查",
        "verify": "已核查通过",
        "refuse": "已退回，意见已保存",
        "certify": "已认证，减排量已签发至业主持仓",
        "comment": "评论已保存"
      },
      "dialog": "监测期 {label}",
      "provenance": "数据来源",
      "formula": "公式版本",
      "factors": "因子行",
      "readings": "读数与输入",
      "computedBy": "核算人",
      "history": "核证记录与评论",
      "noEvents": "暂无记录",
      "notePlaceholder": "意见或评论（核查通过、退回与评论时必填）",
      "commentNeeded": "请先填写意见",
      "addComment": "添加评论",
      "submit": "提交核查",
      "verify": "核查通过",
      "refuse": "退回",
      "certify": "认证并签发"
    }
  },
  "assets": {
    "deadlines": {
      "title": "履约与交易日历",
      "add": "添加截止日期",
      "soon": "即将到期：{title}，还剩 {n} 天",
      "none": "暂无截止日期",
      "due": "截止日期",
      "name": "事项",
      "kind": "类别",
      "region": "适用地区",
      "everyRegion": "全部地区",
      "left": "剩余",
      "remind": "提前提醒（天）",
      "regionHint": "默认为本人所属地区",
      "note": "备注",
      "remove": "删除",
      "removeAsk": "删除这个截止日期？",
      "titleNeeded": "请填写事项",
      "dateNeeded": "请选择截止日期",
      "kinds": {
        "compliance": "履约清缴",
        "trading": "交易",
        "reporting": "报告报送"
      },
      "status": {
        "past": "已过 {n} 天",
        "due_soon": "{n} 天后到期",
        "upcoming": "{n} 天后"
      }
    },
    "title": "碳资产",
    "subtitle": "配额、持仓、交易台账与履约",
    "enterprise": "企业",
    "noEnterprises": "无可见企业",
    "chooseEnterprise": "请选择企业",
    "year": "年度",
    "instrument": "品种",
    "vintage": "年份",
    "quantity": "数量（tCO2e）",
    "instruments": {
      "allowance": "碳排放配额",
      "ccer": "CCER",
      "certified_reduction": "核证减排量"
    },
    "kinds": {
      "allocate": "分配",
      "issue": "签发",
      "buy": "买入",
      "sell": "卖出",
      "surrender": "清缴",
      "transfer": "划转",
      "transfer_in": "划入",
      "transfer_out": "划出"
    },
    "allowances": {
      "title": "年度配额",
      "amount": "配额（tCO2e）",
      "method": "分配方法",
      "benchmark": "基准法：{benchmark} × 产量 {output} × 调整系数 {adjustment}",
      "entered": "直接录入",
      "none": "尚未分配配额"
    },
    "holdings": {
      "title": "持仓",
      "offsets": "抵销类资产合计 {n} t",
      "none": "暂无持仓"
    },
    "ledger": {
      "title": "交易台账",
      "none": "暂无记录",
      "at": "时间",
      "kind": "类型",
      "price": "单价（元/t）",
      "counterparty": "交易对手",
      "reference": "来源 / 经办人",
      "covers": "用于 {year} 年履约"
    },
    "tx": {
      "new": "记录交易",
      "record": "记录",
      "price": "单价（元/t）",
      "toEnterprise": "接收企业编号",
      "complianceYear": "履约年度",
      "held": "当前持有 {n} t",
      "recorded": "已记录{kind} {n} t",
      "quantityNeeded": "请填写大于 0 的数量",
      "vintageNeeded": "请填写年份",
      "priceNeeded": "买入与卖出须填写单价",
      "counterpartyNeeded": "请填写交易对手",
      "yearNeeded": "清缴须填写履约年度"
    },
    "compliance": {
      "title": "履约状况",
      "help": "盈缺 = 配额 + 可用抵销量 − 核查排放量；抵销量不超过排放量 × 抵销上限",
      "cap": "抵销上限（%）",
      "prices": "价格情景（低/中/高，元/t）",
      "current": "当前价格",
      "months": "距履约截止（月）",
      "illustrative": "价格情景为示意值，可按市场行情修改。",
      "deficitWarning": "预计年末缺口 {gap} t：请提前安排购买配额或抵销量。",
      "allowances": "可用配额",
      "offsetsHeld": "持有抵销量 {n} t",
      "verified": "核查排放量",
      "usable": "可用抵销量 {n} t",
      "notVerified": "尚未录入核查排放量",
      "position": "履约盈缺",
      "status": {
        "surplus": "盈余",
        "deficit": "缺口",
        "balanced": "持平"
      },
      "projectedGap": "年末预计盈缺",
      "projection": "据 {months} 个月 {recorded} t 推算全年 {projected} t",
      "noMonths": "尚未录入月度排放",
      "projected": "年末预计",
      "emissions": "排放量",
      "usableOffsets": "可用抵销量",
      "chartLabel": "排放量与配额、可用抵销量对比图",
      "scenario": "情景",
      "price": "价格",
      "cost": "金额（元）",
      "pay": "支出",
      "earn": "收入",
      "scenarios": {
        "low": "低价",
        "mid": "中价",
        "high": "高价"
      },
      "strategy": "交易建议",
      "actions": {
        "buy": "买入 {n} t",
        "sell": "卖出 {n} t",
        "hold": "持有，不交易"
      },
      "timing": {
        "now": "立即",
        "review": "每月复核",
        "lots": "分 {n} 个月，每月约 {q} t"
      },
      "rule": "规则：有缺口时，当前价不高于情景均价或临近截止则立即买入，否则分月均摊；盈余超过排放量 10% 缓冲且当前价不低于情景均价时卖出超出部分；否则持有。",
      "noGap": "录入核查排放量或月度排放后可计算交易成本。"
    }
  }
};
