// 分析与规划页面（views/analysis/）的中文文本；键与 ../en/analysis.js 一一对应。
export default {
  "analysis": {
    "nav": "碳排放分析与达峰预测",
    "title": "碳排放分析与达峰预测",
    "subtitle": "经济增长脱钩、排放变化分解，以及多情景下的排放预测",
    "region": "区域",
    "syntheticNote": "演示用的地级市为平台生成的合成数据，并非统计数据。",
    "from": "起",
    "to": "止",
    "noYears": "该区域监测数据中同时有碳排放与增加值的年份不足两年。",
    "show": "查询",
    "tab": {"decoupling": "脱钩分析", "decomposition": "因素分解", "forecast": "达峰预测"},
    "decoupling": {
      "help": "Tapio 脱钩弹性：碳排放增长率除以增加值增长率，并归入八种脱钩状态之一。",
      "missing": "以下年份缺少碳排放或增加值，未计入：{years}。",
      "chartLabel": "逐年碳排放增长率与增加值增长率",
      "period": "期间",
      "overall": "全期",
      "co2Growth": "碳排放增长率",
      "gdpGrowth": "增加值增长率",
      "elasticity": "弹性系数",
      "state": "脱钩状态",
      "gdpNote": "增加值为当年价（万元），来自监测数据。"
    },
    "tapio": {
      "strong_decoupling": "强脱钩",
      "weak_decoupling": "弱脱钩",
      "recessive_decoupling": "衰退脱钩",
      "expansive_coupling": "扩张连接",
      "recessive_coupling": "衰退连接",
      "expansive_negative_decoupling": "扩张负脱钩",
      "strong_negative_decoupling": "强负脱钩",
      "weak_negative_decoupling": "弱负脱钩"
    },
    "effect": {"activity": "经济规模", "structure": "产业结构", "intensity": "能源强度", "emission_factor": "排放因子"},
    "decomposition": {
      "help": "加法 LMDI：两年间的碳排放变化分解为经济规模（增加值）、产业结构、单位增加值能耗和单位能耗碳排放四个效应，四者之和恰等于变化量。",
      "change": "变化量",
      "residual": "效应之和 − 变化量：{value}",
      "chartLabel": "基期碳排放、各效应与目标期碳排放",
      "excluded": "以下行业无增加值，未参与分解：{names}（{base} → {target} tCO2）。",
      "industry": "行业大类"
    },
    "kaya": {
      "title": "Kaya 因素",
      "identity": "碳排放 = 人口 × 人均 GDP × 单位 GDP 能耗 × 单位能耗碳排放（监测数据不含人口）。",
      "year": "年份",
      "co2": "碳排放（t）",
      "gdp": "增加值（万元）",
      "energyPerGdp": "tce/万元",
      "co2PerEnergy": "tCO2/tce"
    },
    "kind": {"baseline": "基准情景", "policy": "政策情景", "enhanced": "强化情景"},
    "model": {"kaya": "Kaya 驱动因素", "stirpat": "STIRPAT 拟合"},
    "factor": {
      "population": "人口",
      "gdp_per_capita": "人均 GDP",
      "gdp_growth": "GDP",
      "gdp": "GDP",
      "energy_intensity": "能源强度",
      "carbon_per_energy": "单位能耗碳排放"
    },
    "forecast": {
      "model": "模型",
      "endYear": "预测至",
      "run": "预测",
      "help": "增长率取各情景的默认值（可编辑的占位值，并非官方路径）；STIRPAT 模型依据区域历史拟合并给出区间。",
      "peakYear": "达峰年份",
      "peakValue": "峰值排放",
      "peakYears": "可能达峰年份 {from}–{to}",
      "noPeak": "{year} 年前未达峰",
      "fit": "拟合",
      "noFit": "无拟合（年份过少）",
      "chartLabel": "区域碳排放历史、预测及峰值",
      "history": "历史",
      "projection": "预测",
      "peakMark": "{year} 年达峰",
      "factors": "影响因素",
      "factor": "因素",
      "contribution": "对峰值的贡献（tCO2）",
      "elasticity": "弹性",
      "suggestions": "建议",
      "rulesNote": "每条建议均由文档所列规则根据因素排序和分解结果生成。",
      "name": "情景名称",
      "nameNeeded": "请为情景命名后再保存。",
      "save": "保存情景",
      "saved": "已保存情景“{name}”。",
      "savedTitle": "已保存的情景",
      "noneSaved": "该区域尚无已保存的情景。",
      "kindLabel": "类型",
      "compare": "对比所选情景",
      "compareLabel": "已保存情景的预测对比"
    },
    "suggestion": {
      "no_peak": "{end_year} 年排放仍在上升（当年 +{growth}）：单位 GDP 碳排放需每年再下降 {needed} 方能达峰。",
      "peak": "在该情景下，排放于 {peak_year} 年达峰，峰值 {peak_co2} tCO2。",
      "growth_driven": "{factor}到 {year} 年使排放增加 {contribution} tCO2；强度类因素抵消其中 {offset}。",
      "structure": "产业结构向高碳行业偏移（+{effect} tCO2），主要为：{top}。",
      "intensity": "能源强度上升（+{effect} tCO2），应重点提升 {top} 的能效。",
      "emission_factor": "能源结构碳强度上升（+{effect} tCO2），建议 {top} 推进燃料替代。"
    }
  }
};
