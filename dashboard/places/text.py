"""The public map's words, Chinese first and English; the page sends one language's set."""

from __future__ import annotations

WORDS: dict[str, dict[str, str]] = {
    "title": {"zh": "民生地图", "en": "Livelihood map"},
    "subtitle": {"zh": "公厕 · 便民 · 文化", "en": "Toilets · Services · Culture"},
    "other_lang": {"zh": "English", "en": "中文"},
    "search": {"zh": "搜索名称、地址或类型", "en": "Search a name, address or kind"},
    "near": {"zh": "附近", "en": "Near me"},
    "layers": {"zh": "图层", "en": "Layers"},
    "layer_toilet": {"zh": "公厕", "en": "Toilets"},
    "layer_convenience": {"zh": "便民服务", "en": "Services"},
    "layer_culture": {"zh": "特色文化", "en": "Culture"},
    "filters": {"zh": "筛选", "en": "Filters"},
    "open_now": {"zh": "营业中", "en": "Open now"},
    "accessible": {"zh": "无障碍", "en": "Accessible"},
    "baby": {"zh": "母婴室", "en": "Baby care"},
    "family": {"zh": "第三卫生间", "en": "Family room"},
    "free": {"zh": "免费", "en": "Free"},
    "paper": {"zh": "有厕纸", "en": "Toilet paper"},
    "shown": {"zh": "显示 {n} 处", "en": "{n} places shown"},
    "none": {"zh": "没有符合条件的地点", "en": "No place matches"},
    "yes": {"zh": "有", "en": "yes"},
    "no": {"zh": "无", "en": "no"},
    "unknown": {"zh": "不详", "en": "not stated"},
    "kind": {"zh": "类型", "en": "Kind"},
    "hours": {"zh": "开放时间", "en": "Opening hours"},
    "now_label": {"zh": "现在", "en": "Now"},
    "address": {"zh": "地址", "en": "Address"},
    "unit": {"zh": "管理单位", "en": "Managed by"},
    "phone": {"zh": "电话", "en": "Phone"},
    "description": {"zh": "简介", "en": "About"},
    "open": {"zh": "营业中", "en": "Open"},
    "closed": {"zh": "已关闭", "en": "Closed"},
    "repairing": {"zh": "报修中", "en": "Under repair"},
    "open_24h": {"zh": "24小时开放", "en": "Open 24 hours"},
    "open_until": {"zh": "开放至 {t}", "en": "Open until {t}"},
    "opens_at": {"zh": "今天 {t} 开放", "en": "Opens at {t}"},
    "opens_tomorrow": {"zh": "明天 {t} 开放", "en": "Opens tomorrow at {t}"},
    "hours_unknown": {"zh": "开放时间不详", "en": "Hours not known"},
    "go": {"zh": "到这去", "en": "Directions"},
    "close": {"zh": "关闭", "en": "Close"},
    "report": {"zh": "报告问题", "en": "Report a problem"},
    "report_what": {"zh": "遇到了什么问题?", "en": "What is wrong?"},
    "problem_broken": {"zh": "设施损坏", "en": "Broken"},
    "problem_dirty": {"zh": "卫生脏乱", "en": "Dirty"},
    "problem_closed": {"zh": "应开未开", "en": "Closed when it should be open"},
    "report_placeholder": {"zh": "补充说明(选填,500字以内)",
                           "en": "More details (optional, up to 500 characters)"},
    "send": {"zh": "提交", "en": "Send"},
    "sending": {"zh": "正在提交…", "en": "Sending…"},
    "report_ok": {"zh": "已受理,案件编号 {case}。处理期间显示“报修中”。",
                  "en": "Received: case {case}. The place shows “under repair” until it is fixed."},
    "report_failed": {"zh": "提交失败,请稍后再试或拨打12345",
                      "en": "Could not send: try again later or call 12345"},
    "geo_asking": {"zh": "正在获取您的位置…", "en": "Finding your location…"},
    "geo_ok": {"zh": "已按距离排列附近地点", "en": "Nearest places first"},
    "geo_denied": {"zh": "未获得定位权限:请在浏览器设置中允许本站使用位置,或直接搜索地点。",
                   "en": "Location permission was refused: allow it in the browser's settings, "
                         "or search for a place instead."},
    "geo_unavailable": {"zh": "暂时无法获取位置,请稍后再试或直接搜索地点。",
                        "en": "Your location is not available right now: try again, or search."},
    "geo_insecure": {"zh": "此浏览器或连接(需HTTPS)不支持定位,请直接搜索地点。",
                     "en": "Location needs a secure (HTTPS) connection: search for a place "
                           "instead."},
    "load_failed": {"zh": "地图数据加载失败,请刷新重试", "en": "The map data did not load: reload"},
    "legend_repair": {"zh": "橙色:报修中", "en": "Orange: under repair"},
    "legend_closed": {"zh": "空心:已关闭", "en": "Hollow: closed now"},
    "loading": {"zh": "正在加载地图…", "en": "Loading the map…"},
    "help": {"zh": "轻点地图上的圆点,查看开放时间、设施和地址;搜索名称,或点“附近”按距离查找。"
                   "发现设施损坏、脏乱或该开未开,可在详情里“报告问题”。",
             "en": "Tap a dot for its hours, facilities and address; search by name, or tap "
                   "“Near me” to sort by distance. Found something broken, dirty or shut? "
                   "Use “Report a problem” on its card."},
    # The places layer of the wall and the grid page
    "wall_toilets": {"zh": "公厕状态", "en": "Toilets"},
    "state_open": {"zh": "开放", "en": "open"},
    "state_closed": {"zh": "已关闭", "en": "closed"},
    "state_repair": {"zh": "报修中", "en": "under repair"},
}


def words(lang: str) -> dict[str, str]:
    """Every word in ``lang`` (Chinese where English is missing)."""
    return {key: entry.get(lang) or entry["zh"] for key, entry in WORDS.items()}
