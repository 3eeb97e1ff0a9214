"""Reference data of the demo city: departments, case categories, sources, seasons.

One place for the numbers the generator and the live simulator share. Limits are working
hours, as a city's 立案结案标准 sets them; weights are relative case frequencies; a category's
``season`` names a row of ``SEASONS`` (twelve monthly factors, January first).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from queries.models import (
    SOURCE_HOTLINE,
    SOURCE_LEADER,
    SOURCE_PATROL,
    SOURCE_PHOTO,
    SOURCE_VIDEO,
    Category,
    Department,
)

# Share of reports by source (来源), summing to 1.
SOURCE_WEIGHTS: dict[str, float] = {
    SOURCE_PATROL: 0.55,
    SOURCE_HOTLINE: 0.20,
    SOURCE_PHOTO: 0.12,
    SOURCE_VIDEO: 0.10,
    SOURCE_LEADER: 0.03,
}

KIND_SPECIALIST = "专业部门"
KIND_LOCAL = "属地"


@dataclass(frozen=True)
class DepartmentSpec:
    """A specialist department (专业部门) cases are dispatched to."""

    code: str
    name: str


DEPARTMENTS: tuple[DepartmentSpec, ...] = (
    DepartmentSpec("CGZF", "区城市管理执法局"),
    DepartmentSpec("ZJ", "区住房和城乡建设局"),
    DepartmentSpec("ZRZY", "区自然资源分局"),
    DepartmentSpec("JJ", "区公安分局交警大队"),
    DepartmentSpec("SCJG", "区市场监督管理局"),
    DepartmentSpec("STHJ", "区生态环境分局"),
    DepartmentSpec("HW", "区环境卫生管理中心"),
    DepartmentSpec("YL", "区园林绿化中心"),
    DepartmentSpec("SZ", "区市政设施管理中心"),
    DepartmentSpec("SW", "区水务局"),
    DepartmentSpec("GS", "雁湖供水分公司"),
    DepartmentSpec("GD", "雁湖供电分公司"),
    DepartmentSpec("RQ", "雁湖燃气分公司"),
    DepartmentSpec("TX", "区通信管线协调办"),
    DepartmentSpec("JT", "区交通运输局"),
    DepartmentSpec("WL", "区文化和旅游体育局"),
    DepartmentSpec("WJ", "区卫生健康局"),
    DepartmentSpec("YJ", "区应急管理局"),
)


def local_department_code(street_code: str) -> str:
    """Return the code of a street's own department (属地), from the street's area code."""
    return "SD" + street_code[-3:]


# Monthly factors (Jan..Dec) that shape each category's volume through the year.
SEASONS: dict[str, tuple[float, ...]] = {
    "": (1.0,) * 12,
    "summer": (0.75, 0.75, 0.9, 1.0, 1.15, 1.3, 1.4, 1.4, 1.2, 1.0, 0.85, 0.75),
    "hot": (0.3, 0.3, 0.5, 0.8, 1.3, 1.8, 2.2, 2.1, 1.5, 0.9, 0.5, 0.3),
    "rain": (0.3, 0.3, 0.5, 0.8, 1.2, 1.6, 2.4, 2.2, 1.8, 1.0, 0.5, 0.3),
    "snow": (3.0, 2.0, 0.4, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.5, 2.5),
    "frost": (1.8, 1.5, 1.0, 0.8, 0.7, 0.7, 0.8, 0.8, 0.8, 0.9, 1.2, 1.6),
    "autumn": (0.9, 0.8, 0.9, 0.9, 0.9, 0.9, 0.9, 1.0, 1.1, 1.4, 1.6, 1.2),
    "dark": (1.3, 1.2, 1.0, 0.9, 0.8, 0.8, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3),
    "dust": (1.1, 1.2, 1.5, 1.5, 1.2, 0.9, 0.7, 0.7, 0.9, 1.0, 1.1, 1.1),
    "growth": (0.7, 0.7, 1.0, 1.2, 1.3, 1.3, 1.3, 1.2, 1.1, 1.0, 0.8, 0.7),
}


@dataclass(frozen=True)
class CategorySpec:
    """A minor class (小类) with its limits, usual department, frequency and wording.

    ``local`` marks problems a street can settle itself (its 属地 department takes the cases
    it settles at street level); ``texts`` are description templates with ``{where}`` and
    ``{n}`` slots.
    """

    code: str
    kind: str
    major: str
    minor: str
    element: str
    limit_hours: float
    urgent_limit_hours: float
    department_code: str
    weight: float
    season: str
    local: bool
    texts: tuple[str, str, str]


def _c(code: str, major: str, minor: str, element: str, limits: tuple[float, float],
       dept: str, weight: float, season: str, local: bool, *texts: str) -> CategorySpec:
    kind = "部件" if code.startswith("BJ") else "事件"
    return CategorySpec(code, kind, major, minor, element, limits[0], limits[1], dept, weight,
                        season, local, (texts[0], texts[1], texts[2]))


CATEGORIES: tuple[CategorySpec, ...] = (
    # 部件 · 公用设施
    _c("BJ0101", "公用设施", "上水井盖", "市政", (24, 4), "GS", 2.0, "", False,
       "{where}上水井盖破损,存在安全隐患", "{where}上水井盖缺失,已临时围挡",
       "{where}上水井盖松动,车辆碾压有异响"),
    _c("BJ0102", "公用设施", "污水井盖", "市政", (24, 4), "SW", 2.0, "", False,
       "{where}污水井盖破损", "{where}污水井盖缺失,行人易踏空",
       "{where}污水井冒溢,污水漫流约{n}米"),
    _c("BJ0103", "公用设施", "雨水井盖", "市政", (24, 4), "SZ", 2.5, "rain", False,
       "{where}雨水箅子破损", "{where}雨水井盖缺失", "{where}雨水口堵塞,下雨易积水"),
    _c("BJ0104", "公用设施", "电力井盖", "市政", (24, 4), "GD", 1.0, "", False,
       "{where}电力井盖破损", "{where}电力井盖缺失", "{where}电力井盖高低不平,有绊倒隐患"),
    _c("BJ0105", "公用设施", "通信井盖", "市政", (24, 4), "TX", 1.2, "", False,
       "{where}通信井盖破损", "{where}通信井盖缺失", "{where}通信井盖移位"),
    _c("BJ0106", "公用设施", "燃气井盖", "市政", (24, 2), "RQ", 0.6, "", False,
       "{where}燃气井盖破损", "{where}燃气井盖缺失,需立即处置", "{where}燃气阀门井盖松动"),
    _c("BJ0107", "公用设施", "消防栓", "市政", (24, 4), "GS", 0.6, "frost", False,
       "{where}消防栓漏水", "{where}消防栓被撞倾斜", "{where}消防栓被杂物遮挡"),
    _c("BJ0108", "公用设施", "路灯", "亮灯", (48, 8), "SZ", 3.5, "dark", False,
       "{where}路灯不亮,共{n}盏", "{where}路灯灯杆倾斜", "{where}路灯白天常亮"),
    _c("BJ0109", "公用设施", "景观灯", "亮灯", (48, 8), "SZ", 1.2, "dark", False,
       "{where}景观灯损坏{n}处", "{where}楼体亮化灯不亮", "{where}景观灯线路裸露"),
    _c("BJ0110", "公用设施", "配电箱", "市政", (24, 4), "GD", 0.6, "", False,
       "{where}配电箱箱门破损", "{where}配电箱箱门敞开,有触电隐患", "{where}配电箱锈蚀严重"),
    _c("BJ0111", "公用设施", "架空线缆", "市政", (48, 8), "TX", 1.5, "", False,
       "{where}架空线缆凌乱,约{n}米", "{where}通信线缆垂落,影响通行", "{where}废弃线缆未清理"),
    # 部件 · 道路交通
    _c("BJ0201", "道路交通", "交通护栏", "道路", (48, 8), "JT", 1.8, "", False,
       "{where}交通护栏破损{n}米", "{where}护栏被撞倒伏", "{where}护栏缺失"),
    _c("BJ0202", "道路交通", "交通标志牌", "道路", (48, 8), "JJ", 1.0, "", False,
       "{where}交通标志牌倾斜", "{where}交通标志牌被树枝遮挡", "{where}交通标志牌褪色"),
    _c("BJ0203", "道路交通", "交通信号灯", "道路", (8, 2), "JJ", 0.8, "", False,
       "{where}交通信号灯不亮", "{where}信号灯灯头损坏", "{where}信号灯倒计时显示异常"),
    _c("BJ0204", "道路交通", "公交站亭", "道路", (48, 8), "JT", 0.8, "", False,
       "{where}公交站亭玻璃破损", "{where}公交站牌缺失", "{where}公交站亭座椅损坏"),
    _c("BJ0205", "道路交通", "隔离墩", "道路", (48, 8), "SZ", 0.8, "", False,
       "{where}隔离墩缺失{n}个", "{where}阻车桩损坏", "{where}隔离墩移位占道"),
    _c("BJ0206", "道路交通", "盲道", "道路", (48, 8), "SZ", 1.0, "", False,
       "{where}盲道砖破损约{n}平方米", "{where}盲道被占用", "{where}盲道中断"),
    _c("BJ0207", "道路交通", "人行道板", "道路", (48, 8), "SZ", 2.0, "", False,
       "{where}人行道板破损约{n}平方米", "{where}人行道板松动翘起", "{where}人行道塌陷"),
    # 部件 · 市容环境
    _c("BJ0301", "市容环境", "垃圾箱", "环卫", (24, 4), "HW", 3.0, "", False,
       "{where}垃圾箱破损", "{where}垃圾箱缺失", "{where}分类垃圾桶标识脱落"),
    _c("BJ0302", "市容环境", "公厕", "环卫", (24, 4), "HW", 1.0, "", False,
       "{where}公厕水龙头损坏", "{where}公厕冲水设施故障", "{where}公厕照明损坏"),
    _c("BJ0303", "市容环境", "休闲座椅", "市政", (48, 8), "YL", 0.6, "", False,
       "{where}休闲座椅破损", "{where}座椅木条断裂", "{where}座椅锈蚀"),
    # 部件 · 园林绿化
    _c("BJ0401", "园林绿化", "行道树", "绿植", (48, 8), "YL", 2.0, "growth", False,
       "{where}行道树枯死{n}棵", "{where}行道树枝干遮挡交通标志", "{where}行道树树池破损"),
    _c("BJ0402", "园林绿化", "绿地", "绿植", (48, 8), "YL", 1.5, "growth", False,
       "{where}绿地黄土裸露约{n}平方米", "{where}绿地被踩踏", "{where}绿地围栏损坏"),
    _c("BJ0403", "园林绿化", "花坛花箱", "绿植", (48, 8), "YL", 1.0, "", False,
       "{where}花箱破损", "{where}花坛花卉枯死", "{where}花箱移位"),
    # 部件 · 房屋土地
    _c("BJ0501", "房屋土地", "危险房屋", "建筑", (24, 4), "ZJ", 0.3, "rain", False,
       "{where}老旧房屋外墙空鼓,有坠落隐患", "{where}房屋墙体开裂", "{where}屋檐瓦片松动"),
    # 部件 · 其他设施
    _c("BJ0601", "其他设施", "健身设施", "市政", (48, 8), "WL", 0.8, "", False,
       "{where}健身器材损坏{n}件", "{where}健身器材螺丝松动", "{where}健身器材锈蚀"),
    _c("BJ0602", "其他设施", "文物保护标志", "建筑", (48, 8), "WL", 0.2, "", False,
       "{where}文物保护标志牌破损", "{where}文保标志被涂画", "{where}文保说明牌缺失"),
    # 事件 · 市容环境
    _c("SJ0101", "市容环境", "暴露垃圾", "环卫", (4, 1), "HW", 14.0, "", True,
       "{where}有暴露垃圾约{n}袋", "{where}生活垃圾散落", "{where}垃圾桶外溢"),
    _c("SJ0102", "市容环境", "积存垃圾渣土", "环卫", (8, 2), "HW", 5.0, "", True,
       "{where}积存建筑垃圾约{n}立方米", "{where}渣土堆积未清运", "{where}装修垃圾堆放"),
    _c("SJ0103", "市容环境", "道路不洁", "环卫", (4, 1), "HW", 6.0, "autumn", True,
       "{where}路面污渍约{n}平方米", "{where}落叶堆积未清扫", "{where}路面油污"),
    _c("SJ0104", "市容环境", "水域不洁", "水系", (24, 4), "SW", 0.8, "summer", False,
       "{where}河道漂浮垃圾", "{where}水面漂浮物约{n}平方米", "{where}水体发黑有异味"),
    _c("SJ0105", "市容环境", "绿地脏乱", "绿植", (8, 2), "YL", 2.0, "", True,
       "{where}绿地内有垃圾", "{where}绿化带内堆放杂物", "{where}绿地内有白色垃圾约{n}处"),
    _c("SJ0106", "市容环境", "焚烧垃圾树叶", "环卫", (2, 1), "STHJ", 0.6, "autumn", True,
       "{where}有人焚烧垃圾", "{where}焚烧树叶,烟雾较大", "{where}焚烧废弃物"),
    _c("SJ0107", "市容环境", "道路积雪结冰", "道路", (4, 1), "HW", 1.5, "snow", True,
       "{where}路面积雪未清扫", "{where}人行道结冰湿滑", "{where}积雪堆放影响通行"),
    _c("SJ0108", "市容环境", "病媒生物孳生", "环卫", (24, 4), "WJ", 0.4, "hot", False,
       "{where}蚊蝇孳生", "{where}发现鼠迹", "{where}积水容器孳生蚊虫"),
    # 事件 · 宣传广告
    _c("SJ0201", "宣传广告", "非法小广告", "建筑", (8, 2), "CGZF", 9.0, "", True,
       "{where}张贴非法小广告{n}处", "{where}墙面喷涂小广告", "{where}电杆上粘贴小广告"),
    _c("SJ0202", "宣传广告", "违规户外广告", "建筑", (24, 4), "CGZF", 2.0, "", True,
       "{where}违规设置户外广告", "{where}广告牌破损,有坠落隐患", "{where}门头广告超出规定尺寸"),
    _c("SJ0203", "宣传广告", "违规悬挂横幅", "建筑", (8, 2), "CGZF", 1.5, "", True,
       "{where}违规悬挂横幅{n}条", "{where}横幅破损下垂", "{where}树木间悬挂横幅"),
    _c("SJ0204", "宣传广告", "占道广告牌", "道路", (8, 2), "CGZF", 2.5, "", True,
       "{where}摆放占道广告牌{n}块", "{where}落地广告牌占用人行道", "{where}充气拱门占道"),
    # 事件 · 施工管理
    _c("SJ0301", "施工管理", "施工扬尘", "建筑", (8, 2), "ZJ", 2.0, "dust", False,
       "{where}工地裸土未覆盖", "{where}施工扬尘较大", "{where}工地出入口未冲洗车辆"),
    _c("SJ0302", "施工管理", "道路遗撒", "道路", (4, 1), "CGZF", 2.0, "", False,
       "{where}渣土车遗撒约{n}米", "{where}路面泥土遗撒", "{where}混凝土遗撒"),
    _c("SJ0303", "施工管理", "施工占道", "道路", (24, 4), "ZJ", 1.0, "", False,
       "{where}施工占道未设警示", "{where}施工材料占用人行道", "{where}占道施工超出审批范围"),
    _c("SJ0304", "施工管理", "夜间施工噪声", "建筑", (4, 1), "STHJ", 0.8, "summer", False,
       "{where}夜间施工噪声扰民", "{where}夜间机械作业", "{where}夜间切割作业噪声大"),
    _c("SJ0305", "施工管理", "工地围挡破损", "建筑", (24, 4), "ZJ", 0.8, "", False,
       "{where}工地围挡破损{n}米", "{where}围挡倾斜", "{where}围挡公益广告脱落"),
    _c("SJ0306", "施工管理", "违法建设", "建筑", (48, 8), "ZRZY", 1.0, "", False,
       "{where}楼顶私搭乱建", "{where}违规搭建彩钢房约{n}平方米", "{where}私自圈占绿地搭建"),
    # 事件 · 突发事件
    _c("SJ0401", "突发事件", "路面塌陷", "道路", (2, 1), "SZ", 0.3, "rain", False,
       "{where}路面塌陷约{n}平方米", "{where}路面沉降出现坑槽", "{where}路面空洞"),
    _c("SJ0402", "突发事件", "道路积水", "水系", (2, 0.5), "SW", 0.5, "rain", False,
       "{where}路面积水约{n}厘米深", "{where}下穿通道积水", "{where}积水影响车辆通行"),
    _c("SJ0403", "突发事件", "供水管道破裂", "市政", (2, 1), "GS", 0.4, "frost", False,
       "{where}供水管道破裂,路面跑水", "{where}地下冒水", "{where}水表井漏水"),
    _c("SJ0404", "突发事件", "燃气泄漏", "市政", (2, 0.5), "RQ", 0.1, "", False,
       "{where}闻到燃气味", "{where}燃气管道泄漏", "{where}燃气调压箱异响"),
    _c("SJ0405", "突发事件", "树木倒伏", "绿植", (4, 1), "YL", 0.3, "rain", False,
       "{where}树木倒伏阻断通行", "{where}大风刮断树枝", "{where}树木倾斜有倒伏隐患"),
    _c("SJ0406", "突发事件", "安全隐患", "建筑", (4, 1), "YJ", 0.4, "", False,
       "{where}消防通道被堵", "{where}电动车飞线充电", "{where}户外设施有坠落隐患"),
    # 事件 · 街面秩序
    _c("SJ0501", "街面秩序", "占道经营", "道路", (4, 1), "CGZF", 10.0, "summer", True,
       "{where}占道经营摊点{n}处", "{where}水果摊占用人行道", "{where}早餐摊占道经营"),
    _c("SJ0502", "街面秩序", "店外经营", "道路", (4, 1), "CGZF", 8.0, "summer", True,
       "{where}商铺出店经营", "{where}门店货物摆放店外约{n}米", "{where}餐饮店店外摆桌"),
    _c("SJ0503", "街面秩序", "乱堆物料", "道路", (8, 2), "CGZF", 6.0, "", True,
       "{where}乱堆物料约{n}平方米", "{where}堆放废旧家具", "{where}堆放建材"),
    _c("SJ0504", "街面秩序", "沿街晾挂", "建筑", (8, 2), "CGZF", 3.0, "hot", True,
       "{where}沿街晾晒衣物", "{where}树木间拉绳晾挂", "{where}护栏上晾晒被褥"),
    _c("SJ0505", "街面秩序", "非机动车乱停放", "车辆", (4, 1), "JT", 7.0, "", True,
       "{where}共享单车乱停放约{n}辆", "{where}电动车占用盲道停放", "{where}非机动车堵塞出入口"),
    _c("SJ0506", "街面秩序", "机动车违停", "车辆", (2, 1), "JJ", 6.0, "", False,
       "{where}机动车违停{n}辆", "{where}车辆占用人行道停放", "{where}车辆堵塞消防通道"),
    _c("SJ0507", "街面秩序", "露天烧烤", "环卫", (4, 1), "STHJ", 1.5, "hot", True,
       "{where}露天烧烤{n}处", "{where}烧烤油烟扰民", "{where}夜市烧烤占道"),
    _c("SJ0508", "街面秩序", "流动摊贩", "道路", (4, 1), "SCJG", 2.0, "summer", True,
       "{where}流动摊贩{n}个", "{where}三轮车流动售卖", "{where}无照游商兜售"),
    _c("SJ0509", "街面秩序", "废弃车辆", "车辆", (48, 8), "JJ", 0.8, "", False,
       "{where}长期停放废弃车辆", "{where}僵尸车占用车位", "{where}废弃电动车{n}辆"),
)

CATEGORY_BY_MINOR: dict[str, CategorySpec] = {c.minor: c for c in CATEGORIES}


@dataclass(frozen=True)
class ServiceType:
    """A volunteer service type (志愿服务类型): monthly weights, usual start hours, title."""

    name: str
    months: tuple[float, ...]
    start_hours: tuple[int, ...]
    title: str


# Seasonal by design: 扫雪除冰 only in winter, 护林防火 mostly spring and autumn, 文明祭祀
# around 清明 and 寒衣节.
SERVICE_TYPES: tuple[ServiceType, ...] = (
    ServiceType("美化家园", (0.6, 0.6, 1.0, 1.2, 1.2, 1.1, 1.0, 1.0, 1.1, 1.2, 1.0, 0.7),
                (8, 9, 14, 15), "美化家园志愿服务"),
    ServiceType("交通劝导", (1.0,) * 12, (7, 8, 17), "文明交通劝导"),
    ServiceType("文明劝导", (1.0,) * 12, (9, 10, 15, 16), "文明行为劝导"),
    ServiceType("环境整治", (0.8, 0.8, 1.1, 1.2, 1.2, 1.1, 1.0, 1.0, 1.1, 1.2, 1.1, 0.9),
                (8, 9, 14, 15), "环境卫生整治"),
    ServiceType("疫情防控", (0.3, 0.3, 0.2, 0.15, 0.1, 0.1, 0.1, 0.1, 0.1, 0.15, 0.2, 0.3),
                (9, 14), "健康防疫宣传"),
    ServiceType("文明祭祀", (0.0, 0.0, 1.5, 2.5, 0.0, 0.0, 0.0, 0.0, 0.0, 0.4, 0.8, 0.0),
                (9, 10, 14), "文明祭祀宣传"),
    ServiceType("护林防火", (0.2, 0.5, 1.5, 1.5, 0.8, 0.1, 0.1, 0.1, 0.6, 1.2, 1.0, 0.4),
                (9, 14), "护林防火巡查"),
    ServiceType("河湖保护", (0.2, 0.2, 0.4, 0.6, 1.0, 1.2, 1.2, 1.2, 1.0, 0.6, 0.3, 0.2),
                (8, 9, 16), "河湖巡护"),
    ServiceType("扫雪除冰", (1.5, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.2),
                (7, 8), "扫雪除冰保畅通"),
    ServiceType("垃圾分类宣传", (0.8,) * 12, (9, 10, 15), "垃圾分类宣传"),
)


def ensure_reference_data(session: Session) -> None:
    """Add the specialist departments and the categories that are missing; the caller commits.

    Existing rows are kept as they are, so a city's own edits survive a second call.
    """
    have_departments = set(session.scalars(select(Department.code)))
    session.add_all(
        Department(code=d.code, name=d.name, kind=KIND_SPECIALIST)
        for d in DEPARTMENTS
        if d.code not in have_departments
    )
    have_categories = set(session.scalars(select(Category.code)))
    session.add_all(
        Category(
            code=c.code, kind=c.kind, major=c.major, minor=c.minor, element=c.element,
            limit_hours=c.limit_hours, urgent_limit_hours=c.urgent_limit_hours,
            department_code=c.department_code,
        )
        for c in CATEGORIES
        if c.code not in have_categories
    )
    session.flush()
