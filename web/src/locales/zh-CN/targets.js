// 碳目标管理页面 (views/targets/)。
export default {
  "targetsNav": {"potential": "降碳潜力", "targets": "碳目标管理"},
  "reductionPotential": {
    "title": "降碳潜力",
    "subtitle": "按工序对照工序标杆库的标杆值（先进值）与限定值，给出强度差距和可减排量 (tCO2)",
    "enterpriseYear": "企业与年度",
    "noYears": "没有可查看的企业年度核算数据。",
    "toBenchmark": "达到标杆值可减排",
    "toLimit": "达到限定值可减排",
    "total": "核算排放总量",
    "route": "工艺路线：{route}",
    "noRoute": "未能从工序判断工艺路线",
    "wholeWorks": "全厂",
    "missing": "以下工序有排放但标杆库中没有带出处的指标，未给出潜力数值：{processes}",
    "noBenchmark": "无带出处的标杆值",
    "chartLabel": "各工序达到标杆值与限定值的可减排量",
    "col": {"process": "工序", "tco2": "排放量 (tCO2)", "intensity": "强度 (tCO2/t)", "benchmark": "标杆值 / 限定值 (tCO2/t)",
            "toBenchmark": "至标杆值 (tCO2)", "toLimit": "至限定值 (tCO2)"},
    "status": {"compared": "已比较", "no_output": "无产品产量，无法比较", "no_benchmark": "无带出处的标杆值"},
    "help": "可减排量 = max(0, 强度 − 参考值) × 产量；强度 = 工序排放 / 产品产量。数据来自该年度核算清单（填报口径）和工序标杆库中注明出处的指标。"
  },
  "targets": {
    "title": "碳目标管理",
    "subtitle": "设定地区或企业集团的总量或强度目标，按规则分解到下级地区、行业、成员企业或单位并下达；按月跟踪进度，期末考核",
    "new": "设定目标",
    "noneYet": "本地区尚未设定目标。点击“设定目标”开始。",
    "noneIssued": "尚无下达给本单位的目标。",
    "issue": "下达",
    "summary": "{year} 年目标，基准年 {base}；{rule}分解到{level}；容差 {tolerance}",
    "draftNote": "草稿：下表为分解预览，确认无误后点击“下达”。下达后不可更改，如需调整请设定新目标。",
    "intensityUnit": "tCO2/万元",
    "col": {
      "name": "名称", "region": "地区 / 集团", "year": "目标年", "kind": "类型", "value": "目标值", "rule": "分解规则",
      "state": "状态", "holder": "承担方", "baseCo2": "基准年排放 (tCO2)", "baseIntensity": "基准强度 (tCO2/万元)",
      "targetCo2": "目标排放 (tCO2)", "targetIntensity": "目标强度 (tCO2/万元)", "cut": "较基准", "weight": "份额/标杆",
      "rank": "排名", "target": "目标", "actual": "实际", "gap": "偏离目标", "met": "考核结果", "vsPrevious": "较上期变化"
    },
    "kind": {"total": "排放总量", "intensity": "排放强度"},
    "rule": {"equal_rate": "等比例", "by_share": "按份额", "by_benchmark": "按标杆"},
    "ruleHelp": {
      "equal_rate": "等比例：各承担方按基准年排放占比分得总量，降幅相同；强度目标按相同降幅分解。",
      "by_share": "按份额：总量按给定份额的比例分配，请为每个承担方填写份额。",
      "by_benchmark": "按标杆：各承担方的额度为其增加值 × 标杆强度，再按比例缩放到总量；请为每个承担方填写标杆强度 (tCO2/万元)。"
    },
    "level": {"region": "下级地区", "industry": "行业", "unit": "单位", "enterprise": "成员企业"},
    "holderKind": {"region": "地区", "group": "企业集团"},
    "groupLabel": "集团：{name}",
    "state": {"draft": "草稿", "issued": "已下达"},
    "tab": {"allocations": "分解结果", "tracking": "月度跟踪", "assessment": "期末考核"},
    "track": {
      "actual": "累计实际", "allowed": "进度线", "show": "查看",
      "region": "全地区", "group": "全集团", "chartLabel": "累计实际与按月进度线对比",
      "offTrack": "预警：{n} 个承担方超出进度线：{names}",
      "onTrack": "截至 {through}，各承担方均未超出进度线。",
      "noFigures": "目标年尚无月度数据。",
      "helpTotal": "进度线 = 目标 × 已过月数 / 12；累计实际超出进度线（含容差）即为偏离。",
      "helpIntensity": "进度线自基准强度按月线性降至目标强度；累计强度 = 累计排放 / 累计增加值。"
    },
    "assess": {
      "final": "考核结果（全年数据齐全）：{assessed} 个承担方参与考核，{met} 个达标，{not_met} 个未达标。",
      "provisional": "初步结果（目标年数据尚未齐全）：{assessed} 个承担方，{met} 个暂时达标，{not_met} 个暂未达标。",
      "previous": "与上一期目标“{name}”（{year} 年）对比。",
      "csv": "导出 CSV", "xlsx": "导出 Excel",
      "met": "达标", "notMet": "未达标", "noFigures": "无数据",
      "help": "实际值不超过目标 ×（1 + 容差）为达标；排名按偏离目标的幅度，低于目标越多越靠前；较上期变化为偏离幅度之差，负值表示改善。"
    },
    "form": {
      "title": "设定碳目标", "holderKind": "目标主体", "group": "企业集团", "noGroups": "您的范围内尚无企业集团。", "region": "地区", "name": "目标名称", "kind": "目标类型", "year": "目标年",
      "baseYear": "基准年", "total": "排放总量上限 (tCO2)", "rate": "强度下降率 (%)", "level": "分解到",
      "rule": "分解规则", "shares": "各承担方份额", "benchmarks": "各承担方标杆强度 (tCO2/万元)", "holder": "承担方",
      "addHolder": "添加承担方", "tolerance": "容差 (%)", "cancel": "取消", "preview": "保存并预览分解",
      "need": {
        "region": "请选择地区", "group": "请选择企业集团", "name": "请填写名称", "nameLength": "名称不超过 120 个字", "year": "请选择年份",
        "baseBefore": "基准年须早于目标年", "value": "请填写不小于 0 的排放总量", "weights": "请至少为一个承担方填写数值"
      }
    }
  }
};
