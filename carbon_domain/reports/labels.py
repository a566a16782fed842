"""Words of the report in Chinese (zh, the default) and English (en): every code a document carries
(source, process, item, province, industry, unit, factor source, finding) has its wording here, so
that no code or English phrase leaks into a Chinese report.

A code without a wording (a process or item an administrator added) is shown as it is; the tests
render the shipped codes in both languages and check that the Chinese report holds no ASCII word
outside units and identifiers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["LANGUAGES", "Labels", "Language", "labels_for"]

Language = Literal["zh", "en"]
LANGUAGES: tuple[Language, ...] = ("zh", "en")


@dataclass(frozen=True)
class Labels:
    """One language's wording; `text` holds the sentences, with str.format fields."""

    language: Language
    sources: Mapping[str, str]
    processes: Mapping[str, str]
    items: Mapping[str, str]
    directions: Mapping[str, str]
    data_sources: Mapping[str, str]
    qualities: Mapping[str, str]
    findings: Mapping[str, str]
    places: Mapping[str, str]
    industries: Mapping[str, str]
    factor_sources: Mapping[str, str]
    series: Mapping[str, str]
    units: tuple[tuple[str, str], ...]
    text: Mapping[str, str]
    list_separator: str

    def code(self, table: Mapping[str, str], code: str | None) -> str:
        """The wording of `code` in `table`; "—" for none, the code itself when it has no wording."""
        if code is None or code == "":
            return "—"
        return table.get(code, code)

    def place(self, code: str | None) -> str:
        """A region or province in words: ISO 3166-2 codes (`CN-ZJ`, `CN-ZJ-HZ`) and the factor library's
        names (`hebei`, `north`); a part without wording keeps the whole code beside the words."""
        if not code:
            return "—"
        parts = code.lower().split("-")
        if parts[0] == "cn" and len(parts) > 1:
            known = [self.places.get(f"cn-{parts[1]}")]
            rest = parts[2:]
        else:
            known, rest = [], parts
        known += [self.places.get(part) for part in rest]
        words = [k for k in known if k]
        if not words:
            return code
        joined = "".join(words) if self.language == "zh" else " / ".join(words)
        if len(words) == len(known):
            return joined
        return f"{joined}（{code}）" if self.language == "zh" else f"{joined} ({code})"

    def series_name(self, series: str) -> str:
        """A factor series in words, its identifier after it (the identifier is what the factor IDs carry)."""
        return f"{self.series[series]}（{series}）" if series in self.series and self.language == "zh" else \
            f"{self.series[series]} ({series})" if series in self.series else series

    def unit(self, unit: str | None) -> str:
        """A unit as printed: 1e4Nm3 -> 万Nm³ (zh) or 10⁴ Nm³ (en), CO2 -> CO₂."""
        if not unit:
            return "—"
        for plain, printed in self.units:
            unit = unit.replace(plain, printed)
        return unit

    def factor_source(self, source: str) -> str:
        """The shipped library's source texts in words of the language; an administrator's text as entered."""
        return self.factor_sources.get(source, source)

    def finding(self, finding: Mapping[str, Any], number: Any) -> str:
        """A finding's message in the language, from its code and params (the stored English message when the
        code has no wording: a finding added after this renderer)."""
        params = finding.get("params") or {}
        code = finding.get("code", "")
        key = _finding_variant(code, params)
        template = self.text.get(key)
        if template is None:
            return str(finding.get("message", ""))
        values = dict(params)
        values["period"] = finding.get("period") or "—"
        values["stream"] = self.stream(params) if "process" in params else ""
        values["energy"] = self.energy(params)
        values["source"] = self.code(self.sources, params.get("source_type"))
        values["unit"] = self.unit(params.get("unit"))
        values["basis"] = self.code(self.data_sources, params.get("basis"))
        for name in ("net", "bought", "sold", "before", "now", "metered", "entered"):
            if isinstance(params.get(name), int | float):
                values[name] = number(params[name])
        if isinstance(params.get("difference"), int | float):
            values["difference"] = ("+" if params["difference"] > 0 else "") + number(params["difference"])
        if isinstance(params.get("change"), int | float):
            values["change"] = f"{params['change']:+.1%}"
        if isinstance(params.get("relative"), int | float):
            values["relative"] = f"{params['relative']:+.1%}"
        if isinstance(params.get("threshold"), int | float):
            values["threshold"] = f"{params['threshold']:.0%}"
        return template.format(**values)

    def energy(self, params: Mapping[str, Any]) -> str:
        """An energy summed over processes and sites (the cross-check's unit of comparison): item, source, direction."""
        return self.text["energy"].format(
            item=self.code(self.items, params.get("item")), source=self.code(self.sources, params.get("source_type")),
            direction=self.code(self.directions, params.get("direction")))

    def grid_series_name(self, series: str) -> str:
        """The inventory's electricity-factor series (`carbon_domain.grid.GridSeries`) in words."""
        return self.text.get(f"grid.series.{series}", series)

    def grid_step(self, step: str | None, province: str | None, region: str | None) -> str:
        """A step of the electricity-factor precedence in words, naming the place it looked up."""
        if not step:
            return "—"
        template = self.text.get(f"grid.step.{step}")
        if template is None:
            return step
        return template.format(province=self.place(province), region=self.place(region))

    def grid_reason(self, choice: Mapping[str, Any], series: str) -> str:
        """Why a site's electricity factor row was used: the series, each step passed over and why, the step taken."""
        province, region = choice.get("province"), choice.get("region")
        order = list(_GRID_STEPS)
        skipped = sorted(choice.get("skipped") or (), key=lambda s: order.index(s[0]) if s[0] in order else 99)
        passed = [self.text[f"grid.skip.unknown.{step}"] if cause == "unknown" else
                  self.text["grid.skip.none_valid"].format(step=self.grid_step(step, province, region))
                  for step, cause in skipped]
        return self.text["grid.reason"].format(
            series=self.grid_series_name(series), skipped=self.list_separator.join(passed) or self.text["grid.none"],
            chosen=self.grid_step(choice.get("step"), province, region))

    def stream(self, params: Mapping[str, Any]) -> str:
        return self.text["stream"].format(
            process=self.code(self.processes, params.get("process")), item=self.code(self.items, params.get("item")),
            source=self.code(self.sources, params.get("source_type")),
            direction=self.code(self.directions, params.get("direction")))


def _finding_variant(code: str, params: Mapping[str, Any]) -> str:
    if code == "missing_month":
        return "finding.missing_month.stream" if "process" in params else "finding.missing_month"
    if code == "month_on_month_jump" and params.get("change") is None:
        return "finding.month_on_month_jump.from_zero"
    if code == "cross_check" and params.get("status") in ("units", "entered_zero"):
        return f"finding.cross_check.{params['status']}"
    if code == "metered_vs_entered":
        if params.get("entered") is None:
            return "finding.metered_vs_entered.units"
        if params.get("relative") is None:
            return "finding.metered_vs_entered.zero"
    return f"finding.{code}"


_GRID_STEPS = ("enterprise", "province", "region", "national", "carbon_market")

# ISO 3166-2:CN subdivision codes, worded as the province of the same name
_ISO_PROVINCES = {
    "bj": "beijing", "tj": "tianjin", "he": "hebei", "sx": "shanxi", "nm": "neimenggu", "ln": "liaoning", "jl": "jilin",
    "hl": "heilongjiang", "sh": "shanghai", "js": "jiangsu", "zj": "zhejiang", "ah": "anhui", "fj": "fujian",
    "jx": "jiangxi", "sd": "shandong", "ha": "henan", "hb": "hubei", "hn": "hunan", "gd": "guangdong",
    "gx": "guangxi", "hi": "hainan", "cq": "chongqing", "sc": "sichuan", "gz": "guizhou", "yn": "yunnan",
    "xz": "xizang", "sn": "shaanxi", "gs": "gansu", "qh": "qinghai", "nx": "ningxia", "xj": "xinjiang",
}


def _with_iso(places: dict[str, str]) -> dict[str, str]:
    return places | {f"cn-{iso}": places[name] for iso, name in _ISO_PROVINCES.items() if name in places}


_CHECK = "[check against the guide's annex]"
_SHIPPED_SOURCES = (
    "General-industry public table as quoted in METHODS section 2, source not named [check]",
    "MEE notice, Feb 2023",
    "MEE/NBS announcement, Apr 2024",
    "MEE/NBS announcement, Dec 2024",
    "MEE/NBS announcement, Dec 2025",
    f"NDRC steel-guide defaults as reproduced in public accounting software {_CHECK}",
    "NDRC steel-guide defaults as reproduced in public accounting software [check]",
    ("NDRC steel-guide defaults as reproduced in public accounting software; pig iron sold uses the pig-iron factor "
     "[check]"),
    "Provincial grid average, data year 2023, METHODS section 3 [check]",
    "Purchased/exported heat default, METHODS section 3 [check]",
    "Regional grid average, data year 2022, METHODS section 3 (publisher not named)",
    "Regional grid average, data year 2023, METHODS section 3 (publisher not named)",
)
_ZH_SOURCES = (
    "通用工业公开缺省值表（出处未注明）〔待核对〕",
    "生态环境部通知，2023年2月",
    "生态环境部、国家统计局公告，2024年4月",
    "生态环境部、国家统计局公告，2024年12月",
    "生态环境部、国家统计局公告，2025年12月",
    "国家发展改革委《钢铁生产企业温室气体排放核算方法与报告指南》缺省值（转引自公开核算软件）〔待与指南附录核对〕",
    "国家发展改革委钢铁指南缺省值（转引自公开核算软件）〔待核对〕",
    "国家发展改革委钢铁指南缺省值（转引自公开核算软件）；外售生铁采用生铁因子〔待核对〕",
    "省级电网平均排放因子，数据年份2023年〔待核对〕",
    "外购/输出热力缺省排放因子〔待核对〕",
    "区域电网平均排放因子，数据年份2022年（发布机构未注明）",
    "区域电网平均排放因子，数据年份2023年（发布机构未注明）",
)

_ZH = Labels(
    language="zh",
    sources={
        "combustion": "化石燃料燃烧排放", "process": "工业生产过程排放", "electricity": "净购入电力隐含的排放",
        "heat": "净购入热力隐含的排放", "fixed_carbon": "固碳产品隐含的排放（扣减）", "production": "产品产量（不计排放）",
    },
    processes={
        "sintering": "烧结", "pelletising": "球团", "coking": "炼焦", "ironmaking": "炼铁", "steelmaking_bof": "转炉炼钢",
        "steelmaking_eaf": "电炉炼钢", "steelmaking": "炼钢", "rolling": "轧钢", "auxiliary": "辅助生产",
        "unassigned": "未分配工序", "enterprise": "全厂",
    },
    items={
        "natural_gas": "天然气", "coke": "焦炭", "anthracite": "无烟煤", "bituminous_coal": "烟煤", "lignite": "褐煤",
        "washed_coal": "洗精煤", "crude_oil": "原油", "fuel_oil": "燃料油", "diesel": "柴油", "gasoline": "汽油",
        "lpg": "液化石油气", "coke_oven_gas": "焦炉煤气", "blast_furnace_gas": "高炉煤气", "converter_gas": "转炉煤气",
        "limestone": "石灰石", "dolomite": "白云石", "electrode": "电极", "pig_iron": "生铁", "dri": "直接还原铁",
        "ferronickel": "镍铁合金", "ferrochrome": "铬铁合金", "ferromolybdenum": "钼铁合金", "crude_steel": "粗钢",
        "methanol": "甲醇", "grid": "电网电力", "heat": "热力", "sinter": "烧结矿", "pellet": "球团矿",
        "hot_rolled_steel": "热轧钢材", "billet": "钢坯", "coke_product": "焦炭产品",
    },
    directions={"in": "消耗/购入", "out": "输出/产出"},
    data_sources={"entered": "填报", "metered": "计量"},
    qualities={"measured": "实测", "calculated": "计算", "estimated": "估算", "good": "正常", "flagged": "有异常时段"},
    findings={
        "month_on_month_jump": "月度环比突变", "missing_month": "月份缺失", "negative_net": "净购入为负",
        "metered_vs_entered": "计量与填报差异", "metered_quality": "计量数据质量", "estimated_data": "估算数据",
        "cross_check": "与计量数据交叉核对",
    },
    places=_with_iso({
        "cn": "全国", "china": "全国", "beijing": "北京市", "tianjin": "天津市", "hebei": "河北省", "shanxi": "山西省",
        "neimenggu": "内蒙古自治区", "inner_mongolia": "内蒙古自治区", "liaoning": "辽宁省", "jilin": "吉林省",
        "heilongjiang": "黑龙江省", "shanghai": "上海市", "jiangsu": "江苏省", "zhejiang": "浙江省", "anhui": "安徽省",
        "fujian": "福建省", "jiangxi": "江西省", "shandong": "山东省", "henan": "河南省", "hubei": "湖北省",
        "hunan": "湖南省", "guangdong": "广东省", "guangxi": "广西壮族自治区", "hainan": "海南省", "chongqing": "重庆市",
        "sichuan": "四川省", "guizhou": "贵州省", "yunnan": "云南省", "xizang": "西藏自治区", "tibet": "西藏自治区",
        "shaanxi": "陕西省", "gansu": "甘肃省", "qinghai": "青海省", "ningxia": "宁夏回族自治区",
        "xinjiang": "新疆维吾尔自治区", "north": "华北区域", "northeast": "东北区域", "east": "华东区域",
        "central": "华中区域", "northwest": "西北区域", "south": "南方区域", "southwest": "西南区域",
        "tangshan": "唐山市", "handan": "邯郸市",
    }),
    industries={"steel": "钢铁生产", "iron_and_steel": "钢铁生产", "cement": "水泥生产", "chemicals": "化工生产",
                "power": "发电", "general": "其他工业"},
    factor_sources=dict(zip(_SHIPPED_SOURCES, _ZH_SOURCES, strict=True)),
    series={
        "ndrc-steel-2013": "国家发展改革委钢铁生产企业核算指南（2013）", "general-industry": "通用工业缺省值",
        "mee-national-average": "全国电网平均排放因子", "mee-carbon-market": "全国碳市场电网排放因子",
        "mee-regional-grid": "区域电网平均排放因子", "province-2023": "省级电网平均排放因子（2023）",
        "heat-default": "热力缺省排放因子",
    },
    units=(("1e4Nm3", "万Nm³"), ("Nm3", "Nm³"), ("CO2", "CO₂"), ("fraction", "比例")),
    list_separator="、",
    text={
        "title.month": "{name}{year}年{month}月温室气体排放报告",
        "title.year": "{name}{year}年度温室气体排放报告",
        "cover.sheet": "封面",
        "cover.subtitle": "（依据 GB/T 32150-2015、GB/T 32151.5-2015 编制）",
        "cover.enterprise": "报告主体（盖章）", "cover.credit_code": "统一社会信用代码", "cover.period": "报告期",
        "cover.preparer": "编制人", "cover.prepared": "编制日期", "cover.submitted": "送审日期",
        "cover.data_as_of": "数据截至", "cover.not_registered": "未登记", "cover.draft": "草稿（未送审）",
        "basics.title": "一、基本信息", "basics.item": "项目", "basics.content": "内容",
        "basics.name": "企业名称", "basics.id": "企业编号", "basics.region": "所属地区", "basics.industry": "所属行业",
        "basics.period": "报告期", "basics.standards": "核算依据", "basics.series": "排放因子系列",
        "basics.series_value": "燃料 {fuel}；过程与固碳 {process}；电力 {grid}；热力 {heat}",
        "basics.basis": "数据基准", "basics.basis_value": "计量与填报并存时采用{basis}数据",
        "basics.as_of": "数据截至", "basics.default_industry": "钢铁生产",
        "boundary.title": "二、核算边界",
        "boundary.text": ("核算边界为企业法人边界内的主要生产系统、辅助生产系统以及直接为生产服务的附属生产系统；"
                          "生物质燃料燃烧产生的二氧化碳单独报告，不计入排放总量。"),
        "boundary.site_id": "场所编号", "boundary.site": "场所名称", "boundary.province": "省份",
        "boundary.processes": "纳入核算的工序：{processes}。", "boundary.none": "无",
        "boundary.source": "排放源类别", "boundary.involved": "本期是否涉及", "yes": "是", "no": "否",
        "emissions.title": "三、按排放源和工序的排放量",
        "emissions.formula": ("排放总量 = 化石燃料燃烧排放 + 工业生产过程排放 + 净购入电力和热力隐含的排放 − "
                              "固碳产品隐含的排放。下表中扣减项（固碳产品、输出的电力和热力）以负数列示，"
                              "各排放源之和即为排放总量。"),
        "emissions.total": "排放总量：{total} tCO₂。", "emissions.total_row": "排放总量",
        "emissions.source": "排放源", "emissions.process": "工序", "emissions.month": "月份",
        "emissions.tco2": "排放量（tCO₂）",
        "emissions.no_steel": "本期无粗钢产量数据，未计算吨粗钢排放强度。",
        "emissions.intensity": "粗钢产量 {steel} t，吨粗钢二氧化碳排放强度 {intensity} tCO₂/t。",
        "activity.title": "四、活动数据和排放因子及来源",
        "activity.text": ("活动数据按核算单位列示（气体燃料为万标准立方米，电力为兆瓦时，热力为吉焦）；"
                          "排放因子取自平台排放因子库，按各行所属期间首日（北京时间）有效的版本确定。"),
        "activity.no": "序号", "activity.period": "期间", "activity.process": "工序", "activity.source": "排放源",
        "activity.item": "品种", "activity.direction": "方向", "activity.quantity": "活动数据",
        "activity.unit": "单位", "activity.tco2": "排放量（tCO₂）", "activity.origin": "来源",
        "activity.factor_ids": "排放因子编号", "factor.id": "排放因子编号", "factor.value": "数值",
        "factor.unit": "单位", "factor.series": "系列", "factor.valid": "有效期", "factor.source": "来源",
        "factor.valid_range": "{start}至{end}", "factor.open": "今",
        "quality.title": "五、数据质量说明",
        "quality.lines": ("本期核算共 {lines} 行活动数据：计量 {metered} 行（{intervals} 个计量时段，其中异常时段 "
                          "{flagged} 个），填报 {entered} 行（估算 {estimated} 行）。"),
        "quality.version": "第{version}版（{date}，{lines}行）",
        "quality.versions": "采用的填报数据版本：{versions}；被新版本替代的填报行 {superseded} 行（保留备查）。",
        "quality.method": "计量数据为在线计量仪表小时增量的月度合计；填报数据按版本保存，不覆盖原数据。",
        "quality.recon": "计量与填报数据比对（差异超过 {tolerance} 列为核查发现）：",
        "quality.metered": "计量", "quality.entered": "填报", "quality.difference": "差异",
        "quality.exceeds": "超限", "quality.findings": "核查发现：", "quality.no_findings": "核查发现：无。",
        "quality.category": "类别", "quality.message": "说明",
        "declaration.title": "六、声明与签署",
        "declaration.text": ("本单位承诺：本报告所填报的活动数据、排放因子及排放量真实、准确、完整，"
                             "核算方法符合 GB/T 32150-2015 和 GB/T 32151.5-2015 的要求；如有不实，"
                             "本单位愿承担相应的法律责任。"),
        "declaration.legal_rep": "法定代表人（签字）", "declaration.preparer": "编制人（签字）",
        "declaration.reviewer": "审核人（签字）", "declaration.seal": "单位（盖章）", "declaration.date": "日期",
        "declaration.role": "签署项", "declaration.signature": "签字", "declaration.when": "日期",
        "footer.page": "{title}　第 {page} 页",
        "stream": "{process}{item}（{source}，{direction}）",
        "finding.negative_net": ("{period}{source}净购入为 {net} {unit}（购入 {bought}，输出 {sold}）："
                                 "输出多于购入，请核对方向列和计量仪表。"),
        "finding.missing_month": "{period} 无任何活动数据，而该月位于有数据的期间 {first} 至 {last} 之内。",
        "finding.missing_month.stream": "{stream}在 {first} 至 {last} 之间有数据，但缺少 {period} 的数据。",
        "finding.month_on_month_jump": ("{stream}：{period} 较 {previous} 变化 {change}（{before} → {now} {unit}），"
                                        "超过 {threshold} 的阈值。"),
        "finding.month_on_month_jump.from_zero": ("{stream}：{period} 由 {previous} 的零增至 {now} {unit}，"
                                                  "超过 {threshold} 的阈值。"),
        "finding.metered_vs_entered": ("{stream}{period}：计量 {metered} 与填报 {entered} {unit}（差异 {relative}）；"
                                       "核算采用{basis}数据。"),
        "finding.metered_vs_entered.zero": "{stream}{period}：填报为零，计量为 {metered} {unit}；核算采用{basis}数据。",
        "finding.metered_vs_entered.units": "{stream}{period}：填报单位无法与计量单位 {unit} 比较；核算采用{basis}数据。",
        "finding.metered_quality": "{intervals} 个计量时段数据不确定或异常（计数器复位、替代值），核查前请检查计量仪表。",
        "finding.estimated_data": "{count} 行填报数据为估算值，有实测数据时请替换。",
        "energy": "{item}（{source}，{direction}）",
        "finding.cross_check": ("{energy}{period}：填报 {entered} {unit}，计量 {metered} {unit}，"
                                "差异 {difference} {unit}（{relative}），超过 {threshold} 的容差，请核对填报数据和计量仪表。"),
        "finding.cross_check.entered_zero": "{energy}{period}：填报为零，计量为 {metered} {unit}，请核对填报数据。",
        "finding.cross_check.units": "{energy}{period}：填报单位无法与计量单位 {unit} 比较，请按计量单位填报。",
        "cross.title": "与平台计量数据的交叉核对（同一企业、同一期间的月度计量合计；差异超过 {tolerance} 列为核查发现）：",
        "cross.energy": "能源品种", "cross.entered": "填报", "cross.metered": "计量", "cross.difference": "差异",
        "cross.relative": "相对差异", "cross.status": "核对情况",
        "cross.status.compared": "已核对", "cross.status.entered_zero": "填报为零，计量不为零",
        "cross.status.units": "单位无法比较", "cross.status.no_metered_month": "该月无计量数据，未核对",
        "cross.status.partial_year": "计量覆盖 {months}/12 个月，未核对",
        "cross.status.by_process": "已按工序逐项比对（见上表）",
        "grid.title": "各场所采用的电力排放因子及确定依据（电力排放因子系列：{series}）：",
        "grid.site": "场所", "grid.works": "全厂（未注明场所的数据行）", "grid.step": "确定依据", "grid.why": "说明",
        "grid.periods": "适用期间",
        "grid.series.enterprise": "企业专用因子优先（企业 → 省级 → 区域 → 全国）",
        "grid.series.province": "省级电网平均优先（省级 → 区域 → 全国）",
        "grid.series.national": "全国电网平均排放因子（数据年份）",
        "grid.series.carbon-market": "全国碳市场电网排放因子",
        "grid.step.enterprise": "企业专用排放因子", "grid.step.province": "{province}电网平均排放因子",
        "grid.step.region": "{region}电网平均排放因子", "grid.step.national": "全国电网平均排放因子（数据年份）",
        "grid.step.carbon_market": "全国碳市场电网排放因子",
        "grid.skip.none_valid": "{step}在该期间无有效值",
        "grid.skip.unknown.enterprise": "未指定企业，无企业专用排放因子",
        "grid.skip.unknown.province": "省份未登记或各场所不在同一省份，不采用省级电网平均排放因子",
        "grid.skip.unknown.region": "所属区域电网未知，不采用区域电网平均排放因子",
        "grid.none": "无跳过的步骤",
        "grid.reason": "按{series}的顺序：{skipped}；采用{chosen}。",
    },
)

_EN = Labels(
    language="en",
    sources={
        "combustion": "Fossil fuel combustion", "process": "Industrial processes",
        "electricity": "Net purchased electricity", "heat": "Net purchased heat",
        "fixed_carbon": "Carbon fixed in products (subtracted)", "production": "Product output (no emission)",
    },
    processes={
        "sintering": "Sintering", "pelletising": "Pelletising", "coking": "Coking", "ironmaking": "Ironmaking",
        "steelmaking_bof": "BOF steelmaking", "steelmaking_eaf": "EAF steelmaking", "steelmaking": "Steelmaking",
        "rolling": "Rolling", "auxiliary": "Auxiliary", "unassigned": "Unassigned", "enterprise": "Whole works",
    },
    items={
        "natural_gas": "natural gas", "bituminous_coal": "bituminous coal", "washed_coal": "washed coal",
        "crude_oil": "crude oil", "fuel_oil": "fuel oil", "lpg": "LPG", "coke_oven_gas": "coke oven gas",
        "blast_furnace_gas": "blast furnace gas", "converter_gas": "converter gas", "pig_iron": "pig iron",
        "dri": "DRI", "crude_steel": "crude steel", "grid": "grid electricity", "hot_rolled_steel": "hot-rolled steel",
    },
    directions={"in": "consumed/purchased", "out": "exported/output"},
    data_sources={"entered": "entered", "metered": "metered"},
    qualities={"measured": "measured", "calculated": "calculated", "estimated": "estimated", "good": "good",
               "flagged": "flagged intervals"},
    findings={
        "month_on_month_jump": "Month-on-month jump", "missing_month": "Missing month", "negative_net": "Negative net",
        "metered_vs_entered": "Metered vs entered", "metered_quality": "Meter data quality",
        "estimated_data": "Estimated data", "cross_check": "Cross-check with meters",
    },
    places=_with_iso({
        "cn": "China", "china": "China", "north": "North grid", "northeast": "Northeast grid", "east": "East grid",
        "central": "Central grid", "northwest": "Northwest grid", "south": "South grid", "southwest": "Southwest grid",
        **{code: code.replace("_", " ").title() for code in (
            "beijing", "tianjin", "hebei", "shanxi", "liaoning", "jilin", "heilongjiang", "shanghai", "jiangsu",
            "zhejiang", "anhui", "fujian", "jiangxi", "shandong", "henan", "hubei", "hunan", "guangdong", "guangxi",
            "hainan", "chongqing", "sichuan", "guizhou", "yunnan", "shaanxi", "gansu", "qinghai", "ningxia",
            "xinjiang", "tangshan", "handan", "inner_mongolia", "tibet", "neimenggu", "xizang")},
    }),
    industries={"steel": "Iron and steel", "iron_and_steel": "Iron and steel", "cement": "Cement",
                "chemicals": "Chemicals", "power": "Power generation", "general": "Other industry"},
    factor_sources={},
    series={
        "ndrc-steel-2013": "NDRC steel guide (2013)", "general-industry": "general industry defaults",
        "mee-national-average": "national grid average", "mee-carbon-market": "carbon market grid factor",
        "mee-regional-grid": "regional grid average", "province-2023": "provincial grid average (2023)",
        "heat-default": "heat default",
    },
    units=(("1e4Nm3", "10⁴ Nm³"), ("Nm3", "Nm³"), ("CO2", "CO₂")),
    list_separator=", ",
    text={
        "title.month": "{name} greenhouse gas emissions report, {year}-{month:02d}",
        "title.year": "{name} greenhouse gas emissions report {year}",
        "cover.sheet": "Cover",
        "cover.subtitle": "(prepared under GB/T 32150-2015 and GB/T 32151.5-2015)",
        "cover.enterprise": "Reporting entity (seal)", "cover.credit_code": "Unified social credit code",
        "cover.period": "Reporting period", "cover.preparer": "Prepared by", "cover.prepared": "Prepared on",
        "cover.submitted": "Submitted on", "cover.data_as_of": "Data as of", "cover.not_registered": "not registered",
        "cover.draft": "draft (not submitted)",
        "basics.title": "1. General information", "basics.item": "Item", "basics.content": "Content",
        "basics.name": "Enterprise", "basics.id": "Enterprise ID", "basics.region": "Region",
        "basics.industry": "Industry", "basics.period": "Reporting period", "basics.standards": "Standards",
        "basics.series": "Emission factor series",
        "basics.series_value": "fuel {fuel}; process and fixed carbon {process}; electricity {grid}; heat {heat}",
        "basics.basis": "Data basis", "basics.basis_value": "{basis} data where metered and entered data overlap",
        "basics.as_of": "Data as of", "basics.default_industry": "Iron and steel",
        "boundary.title": "2. Boundary",
        "boundary.text": ("The boundary is the legal entity: main production, auxiliary production and the ancillary "
                          "systems serving production. CO₂ from biomass combustion is reported separately and not "
                          "included in the total."),
        "boundary.site_id": "Site ID", "boundary.site": "Site", "boundary.province": "Province",
        "boundary.processes": "Processes accounted: {processes}.", "boundary.none": "none",
        "boundary.source": "Emission source", "boundary.involved": "In this period", "yes": "yes", "no": "no",
        "emissions.title": "3. Emissions by source and process",
        "emissions.formula": ("Total = fossil fuel combustion + industrial processes + net purchased electricity and "
                              "heat − carbon fixed in products. Subtractions (fixed carbon, exported electricity "
                              "and heat) are shown as negative figures, so the sources add up to the total."),
        "emissions.total": "Total emissions: {total} tCO₂.", "emissions.total_row": "Total",
        "emissions.source": "Source", "emissions.process": "Process", "emissions.month": "Month",
        "emissions.tco2": "Emissions (tCO₂)",
        "emissions.no_steel": "No crude steel output in this period: no intensity per tonne of crude steel.",
        "emissions.intensity": "Crude steel {steel} t; CO₂ intensity {intensity} tCO₂/t crude steel.",
        "activity.title": "4. Activity data and emission factors",
        "activity.text": ("Activity data are in accounting units (gaseous fuels 10⁴ Nm³, electricity MWh, heat GJ); "
                          "emission factors come from the platform's factor library, in the version valid on the "
                          "first day of each line's period (China Standard Time)."),
        "activity.no": "No.", "activity.period": "Period", "activity.process": "Process",
        "activity.source": "Source", "activity.item": "Item", "activity.direction": "Direction",
        "activity.quantity": "Quantity", "activity.unit": "Unit", "activity.tco2": "Emissions (tCO₂)",
        "activity.origin": "Origin", "activity.factor_ids": "Factor IDs", "factor.id": "Factor ID",
        "factor.value": "Value", "factor.unit": "Unit", "factor.series": "Series", "factor.valid": "Valid",
        "factor.source": "Source", "factor.valid_range": "{start} to {end}", "factor.open": "open",
        "quality.title": "5. Data quality",
        "quality.lines": ("{lines} activity lines: {metered} metered ({intervals} metered intervals, {flagged} of them "
                          "flagged), {entered} entered ({estimated} estimated)."),
        "quality.version": "version {version} ({date}, {lines} lines)",
        "quality.versions": "Entered data versions used: {versions}; {superseded} lines superseded by newer versions "
                            "(kept for reference).",
        "quality.method": ("Metered data are monthly sums of hourly meter increments; entered data are kept by "
                           "version and never overwritten."),
        "quality.recon": "Metered against entered data (differences above {tolerance} are findings):",
        "quality.metered": "Metered", "quality.entered": "Entered", "quality.difference": "Difference",
        "quality.exceeds": "Exceeds", "quality.findings": "Findings:", "quality.no_findings": "Findings: none.",
        "quality.category": "Category", "quality.message": "Detail",
        "declaration.title": "6. Declaration and signatures",
        "declaration.text": ("We declare that the activity data, emission factors and emissions in this report are "
                             "true, accurate and complete, and that they were accounted as GB/T 32150-2015 and "
                             "GB/T 32151.5-2015 require; we accept legal responsibility for any misstatement."),
        "declaration.legal_rep": "Legal representative (signature)", "declaration.preparer": "Prepared by (signature)",
        "declaration.reviewer": "Reviewed by (signature)", "declaration.seal": "Entity (seal)",
        "declaration.date": "Date", "declaration.role": "Role", "declaration.signature": "Signature",
        "declaration.when": "Date",
        "footer.page": "{title} — page {page}",
        "stream": "{process} {item} ({source}, {direction})",
        "finding.negative_net": ("{source} net for {period} is {net} {unit} (in {bought}, out {sold}): more exported "
                                 "than purchased; check the direction column and the meters."),
        "finding.missing_month": "No activity lines for {period}, inside the covered range {first} to {last}.",
        "finding.missing_month.stream": "{stream} has no line for {period} but has lines from {first} to {last}.",
        "finding.month_on_month_jump": ("{stream}: {period} is {change} on {previous} ({before} → {now} {unit}), "
                                        "beyond the {threshold} threshold."),
        "finding.month_on_month_jump.from_zero": ("{stream}: {period} is up from zero in {previous} to {now} {unit}, "
                                                  "beyond the {threshold} threshold."),
        "finding.metered_vs_entered": ("{stream} in {period}: metered {metered} vs entered {entered} {unit} "
                                       "({relative}); the inventory uses the {basis} figure."),
        "finding.metered_vs_entered.zero": ("{stream} in {period}: entered zero, metered {metered} {unit}; the "
                                            "inventory uses the {basis} figure."),
        "finding.metered_vs_entered.units": ("{stream} in {period}: the entered units cannot be compared with the "
                                             "meter's {unit}; the inventory uses the {basis} figure."),
        "finding.metered_quality": ("{intervals} metered intervals are uncertain or bad (counter resets, substituted "
                                    "values); check the meters before verification."),
        "finding.estimated_data": "{count} entered lines are estimates; replace them with measured data when available.",
        "energy": "{item} ({source}, {direction})",
        "finding.cross_check": ("{energy} in {period}: entered {entered} {unit}, metered {metered} {unit}, difference "
                                "{difference} {unit} ({relative}), beyond the {threshold} tolerance; check the "
                                "entered figures and the meters."),
        "finding.cross_check.entered_zero": ("{energy} in {period}: entered zero, metered {metered} {unit}; check the "
                                             "entered figures."),
        "finding.cross_check.units": ("{energy} in {period}: the entered units cannot be compared with the meters' "
                                      "{unit}; enter the meters' unit."),
        "cross.title": ("Cross-check with the platform's metered data (monthly metered totals of the same enterprise "
                        "and period; differences above {tolerance} are findings):"),
        "cross.energy": "Energy", "cross.entered": "Entered", "cross.metered": "Metered",
        "cross.difference": "Difference", "cross.relative": "Relative", "cross.status": "Checked",
        "cross.status.compared": "compared", "cross.status.entered_zero": "entered zero, metered more",
        "cross.status.units": "units not comparable", "cross.status.no_metered_month": "no metered data: not compared",
        "cross.status.partial_year": "meters cover {months} of 12 months: not compared",
        "cross.status.by_process": "compared process by process (table above)",
        "grid.title": "Electricity factor used for each site, and why (electricity factor series: {series}):",
        "grid.site": "Site", "grid.works": "Whole works (lines naming no site)", "grid.step": "Chosen by",
        "grid.why": "Why", "grid.periods": "Periods",
        "grid.series.enterprise": "enterprise-specific first (enterprise → province → region → national)",
        "grid.series.province": "provincial average first (province → region → national)",
        "grid.series.national": "national grid average of the data year",
        "grid.series.carbon-market": "national carbon-market grid factor",
        "grid.step.enterprise": "enterprise-specific factor", "grid.step.province": "{province} provincial grid average",
        "grid.step.region": "{region} average", "grid.step.national": "national grid average of the data year",
        "grid.step.carbon_market": "national carbon-market grid factor",
        "grid.skip.none_valid": "{step}: none valid in the period",
        "grid.skip.unknown.enterprise": "no enterprise named, so no enterprise-specific factor",
        "grid.skip.unknown.province": "no single province known, so no provincial average",
        "grid.skip.unknown.region": "no regional grid known, so no regional average",
        "grid.none": "no step skipped",
        "grid.reason": "following {series}: {skipped}; used the {chosen}.",
    },
)

_BY_LANGUAGE: dict[str, Labels] = {"zh": _ZH, "en": _EN}


def labels_for(language: str) -> Labels:
    """The wording of `language` ("zh" or "en"); raises ValueError naming the choices."""
    try:
        return _BY_LANGUAGE[language]
    except KeyError:
        raise ValueError(f"report language must be one of {', '.join(LANGUAGES)}, got {language!r}") from None

