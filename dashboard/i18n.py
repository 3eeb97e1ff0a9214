"""UI words in Chinese (the default) and English; pages call ``t(key, lang)``."""

from __future__ import annotations

from queries.vocabulary import load_vocabulary

DEFAULT_LANGUAGE = "zh"

WORDS: dict[str, dict[str, str]] = {
    "title": {"zh": "城市运行管理指挥大屏", "en": "City Operations Command Center"},
    "updated": {"zh": "数据更新于", "en": "Data as of"},
    "stale": {"zh": "数据延迟", "en": "STALE DATA"},
    "stale_hint": {"zh": "数据库暂不可达,显示最近一次成功的数据",
                   "en": "The database is unreachable: showing the last good data"},
    "no_data": {"zh": "暂无数据", "en": "No data yet"},
    "unknown_area": {"zh": "没有这个区域编码", "en": "No area has this code"},
    "data_unavailable": {"zh": "数据暂不可用，正在自动重试…", "en": "Data unavailable — retrying…"},
    "data_pending": {"zh": "正在准备数据…", "en": "Preparing the data…"},
    "history_badge": {"zh": "回看", "en": "History"},
    "history_hint": {"zh": "按历史时刻显示,数据不再刷新", "en": "Shown as the city stood then"},
    "as_of_label": {"zh": "数据截至", "en": "Data as of"},
    # Data quality (/quality)
    "nav_quality": {"zh": "数据质量", "en": "Data quality"},
    "quality_title": {"zh": "数据质量 · 导入核查", "en": "Data quality · imports"},
    "quality_trend": {
        "zh": "近30天:隔离行(按原因)与位置不精确案件",
        "en": "Last 30 days: quarantined rows by reason, imprecise locations",
    },
    "quality_quarantine": {"zh": "隔离行", "en": "Quarantined rows"},
    "quality_quarantine_hint": {
        "zh": "未能导入的行,修正映射后重新导入即释放",
        "en": "Rows not taken in; fixing the mapping and re-importing releases them",
    },
    "quality_locations": {"zh": "位置不精确", "en": "Imprecise locations"},
    "quality_locations_hint": {
        "zh": "按区域字段计入,不参与空间重复判定,地图上只计数",
        "en": "Kept by their area field, left out of spatial repeats, counted on the map",
    },
    "quality_disagree": {"zh": "区域字段与坐标不一致", "en": "Area field vs point"},
    "quality_disagree_hint": {
        "zh": "以映射规定的一方为准",
        "en": "The side the mapping names wins",
    },
    "quality_sources": {"zh": "数据源", "en": "Sources"},
    "quality_sources_hint": {
        "zh": "超过时限没有新案件即为停更",
        "en": "Stale: no new case within the limit",
    },
    "quality_samples": {"zh": "样本行", "en": "Sample rows"},
    "quality_none": {"zh": "无", "en": "None"},
    "quality_share": {"zh": "占比", "en": "share"},
    "quality_tile_quarantined": {"zh": "隔离行", "en": "Quarantined"},
    "quality_tile_imprecise": {"zh": "位置不精确", "en": "Imprecise"},
    "quality_tile_disagree": {"zh": "字段与坐标不一致", "en": "Field vs point"},
    "quality_tile_stale": {"zh": "停更数据源", "en": "Stale sources"},
    "quality_col_source": {"zh": "数据源", "en": "Source"},
    "quality_col_reason": {"zh": "原因", "en": "Reason"},
    "quality_col_rows": {"zh": "行数", "en": "Rows"},
    "quality_col_why": {"zh": "原因", "en": "Why"},
    "quality_col_cases": {"zh": "案件数", "en": "Cases"},
    "quality_col_share": {"zh": "占该源", "en": "Of source"},
    "quality_col_newest": {"zh": "最新上报", "en": "Newest report"},
    "quality_col_hours": {"zh": "距今(小时)", "en": "Hours since"},
    "quality_col_state": {"zh": "状态", "en": "State"},
    "quality_col_where": {"zh": "文件:行", "en": "File:row"},
    "quality_col_id": {"zh": "编号", "en": "Id"},
    "quality_col_detail": {"zh": "详情", "en": "Detail"},
    "quality_stale": {"zh": "停更", "en": "Stale"},
    "quality_fresh": {"zh": "正常", "en": "Fresh"},
    "quality_unavailable": {
        "zh": "数据库暂不可达,显示上次结果,正在重试",
        "en": "Database unreachable: showing the last result, retrying",
    },
    "quality_computed": {"zh": "统计于", "en": "Computed at"},
    "quality_note_default_geocode": {"zh": "默认坐标", "en": "Default geocode"},
    "quality_note_shared_point": {"zh": "大量案件共用一点", "en": "One point, many cases"},
    "quality_note_coarse": {"zh": "坐标精度不足", "en": "Coarse coordinates"},
    "quality_note_area_centre": {"zh": "无坐标(置于区域中心)", "en": "No point (area centre)"},
    "quality_note_field_point_disagree": {
        "zh": "坐标不在字段所指区域",
        "en": "Point outside the named area",
    },
    "quality_note_point_outside": {"zh": "坐标在所有区域之外", "en": "Point outside every area"},
    "quality_note_unknown": {"zh": "未说明", "en": "Not stated"},
    "not_found": {"zh": "没有这个页面", "en": "No such page"},
    "back_home": {"zh": "返回大屏", "en": "Back to the big screen"},
    # KPI tiles (今日)
    "kpi_panel": {"zh": "运行指标 · 今日与本月", "en": "Today and month to date"},
    "vs_yesterday": {"zh": "日环比", "en": "d/d"},
    "vs_last_month_span": {"zh": "较上月同期", "en": "m/m"},
    "tile_period_day": {"zh": "今日", "en": "today"},
    "tile_period_month": {"zh": "本月", "en": "MTD"},
    "vs_last_week": {"zh": "周同比", "en": "w/w"},
    "vs_hint": {"zh": "计数为今日至此刻:日环比较昨日同时段,周同比较上周同一天同时段;"
                      "比率为本月累计,较上月同期(同样天数与时刻)",
                "en": "Counts are today so far: d/d against yesterday, w/w against the same "
                      "weekday last week, each to the same time; rates are month to date "
                      "against the same span of last month"},
    "target": {"zh": "目标", "en": "target"},
    # Volunteers (志愿服务)
    "vol_panel": {"zh": "志愿服务", "en": "Volunteer service"},
    "vol_teams": {"zh": "今日活跃队伍", "en": "Teams active today"},
    "vol_on_duty": {"zh": "当前在岗志愿者", "en": "Volunteers on duty"},
    "vol_hours": {"zh": "本月服务小时", "en": "Hours this month"},
    "vol_types": {"zh": "今日活动", "en": "Activities today"},
    "vol_none": {"zh": "今日暂无活动", "en": "No activities today"},
    "vol_types_month": {"zh": "本月活动(今日暂无)", "en": "This month (none today yet)"},
    "vol_none_month": {"zh": "本月暂无活动", "en": "No activities this month"},
    # Ranking and trend
    "ranking_panel": {"zh": "考核得分排名", "en": "Assessment score ranking"},
    "ranking_panel_composite": {"zh": "综合指标值排名", "en": "Composite indicator ranking"},
    "ranking_hint": {
        "zh": "考核得分:月度城市管理综合考核的得分(与「考核」页同一结果,已发布月份为冻结结果)。"
              "每组倒数后两名标红(组末位)。",
        "en": "Assessment score: the monthly assessment's score (the same figures as the "
              "Rankings page; published months are frozen). The bottom two of each group are "
              "marked red.",
    },
    "ranking_hint_composite": {
        "zh": "综合指标值:与「网格」页同一指标,不是考核得分。末两名标红。",
        "en": "Composite indicator: the Grids page's indicator, not the assessment score. The "
              "bottom two are marked red.",
    },
    "ranking_month": {"zh": "{year}年{month}月", "en": "{year}-{month:02d}"},
    "ranking_running": {"zh": "进行中·临时", "en": "in progress, provisional"},
    "ranking_provisional": {"zh": "临时", "en": "provisional"},
    "ranking_published": {"zh": "已发布", "en": "published"},
    "bottom": {"zh": "末位", "en": "low"},
    "bottom_of_group": {"zh": "组末位", "en": "grp low"},
    "few_cases": {"zh": "样本不足", "en": "few"},
    "trend_panel": {"zh": "近30日上报与结案", "en": "Reported vs closed, last 30 days"},
    "trend_reported": {"zh": "上报", "en": "Reported"},
    "trend_closed": {"zh": "结案", "en": "Closed"},
    # Map
    "map_open_cases": {"zh": "在办案件分布", "en": "Open cases"},
    "map_imprecise": {
        "zh": " · 位置不精确 {n} 件(未标点)",
        "en": " · {n} with imprecise locations (not drawn)",
    },
    "map_imprecise_hint": {
        "zh": "默认坐标、多案共用一点或坐标精度不足的案件不在地图上标点,"
              "按区域字段计入各项指标",
        "en": "Cases on a default geocode, a shared or a coarse point are not drawn; "
              "they count in their area's figures",
    },
    "light_green": {"zh": "正常", "en": "On time"},
    "light_yellow": {"zh": "临期", "en": "Due soon"},
    "light_red": {"zh": "超期", "en": "Overdue"},
    "layer_majors": {"zh": "大类", "en": "Class"},
    "layer_sources": {"zh": "来源", "en": "Source"},
    "layer_heat": {"zh": "热力(按网格)", "en": "Heat (per grid)"},
    # Case card
    "card_category": {"zh": "类别", "en": "Category"},
    "card_address": {"zh": "地址", "en": "Address"},
    "card_source": {"zh": "来源", "en": "Source"},
    "card_reported": {"zh": "上报时间", "en": "Reported"},
    "card_department": {"zh": "处置部门", "en": "Department"},
    "card_status": {"zh": "状态", "en": "Status"},
    "card_deadline": {"zh": "处置时限", "en": "Deadline"},
    "card_open_for": {"zh": "已历时", "en": "Open for"},
    "card_rework": {"zh": "返工次数", "en": "Rework"},
    "card_missing": {"zh": "案件不存在", "en": "No such case"},
    "card_outside_scope": {"zh": "该案件不在您的权限范围内",
                           "en": "This case is outside your scope"},
    "card_unavailable": {"zh": "数据库暂不可达,稍后再试", "en": "Database unreachable, try again"},
    "unassigned": {"zh": "未派遣", "en": "not dispatched"},
    "days": {"zh": "天", "en": "d"},
    "hours": {"zh": "小时", "en": "h"},
    "minutes": {"zh": "分", "en": "min"},
    "ticker_panel": {"zh": "最新案件", "en": "Newest cases"},
    # Page navigation (shared by the pages' top bar)
    "nav_screen": {"zh": "大屏", "en": "Big screen"},
    "nav_present": {"zh": "演示模式", "en": "Presentation"},
    "nav_grids": {"zh": "网格", "en": "Grids"},
    "nav_rankings": {"zh": "考核", "en": "Rankings"},
    "nav_volunteers": {"zh": "志愿服务", "en": "Volunteers"},
    "nav_sections": {"zh": "路长制", "en": "Road sections"},
    # Grid management page (网格化管理, /grids)
    "grids_title": {"zh": "网格化管理", "en": "Grid management"},
    "grids_lang_switch": {"zh": "English", "en": "中文"},
    "grids_period_day": {"zh": "今日", "en": "Today"},
    "grids_period_week": {"zh": "本周", "en": "This week"},
    "grids_period_month": {"zh": "本月", "en": "This month"},
    "grids_period_quarter": {"zh": "本季", "en": "This quarter"},
    "grids_period_year": {"zh": "本年", "en": "This year"},
    "grids_period_custom": {"zh": "自定义", "en": "Custom"},
    "grids_range_start": {"zh": "开始日期", "en": "From"},
    "grids_range_end": {"zh": "结束日期", "en": "To"},
    "grids_kpi": {"zh": "着色指标", "en": "Colour by"},
    "grids_vs": {"zh": "对比", "en": "vs"},
    "grids_previous": {"zh": "上期", "en": "Prev."},
    "grids_same_span": {"zh": "同期", "en": "Same span"},
    "grids_same_span_of": {"zh": "{period}同期(至 {until})",
                           "en": "{period}, same span (to {until})"},
    "grids_computed": {"zh": "计算于", "en": "Computed at"},
    "grids_bad_period": {
        "zh": "时段无法识别,显示本月",
        "en": "Period not understood: showing this month",
    },
    "grids_unavailable": {"zh": "数据库暂不可达,显示上次结果",
                          "en": "Database unreachable: showing the last result"},
    "grids_level_district": {"zh": "区", "en": "District"},
    "grids_level_street": {"zh": "街道", "en": "Streets"},
    "grids_level_community": {"zh": "社区", "en": "Communities"},
    "grids_level_grid": {"zh": "网格", "en": "Grids"},
    "grids_map_hint": {"zh": "点击区域下钻", "en": "Click an area to drill down"},
    "grids_legend_none": {"zh": "无数据(分母为0)", "en": "No value (zero denominator)"},
    "grids_legend_all": {"zh": "全部", "en": "All"},
    "grids_legend_hint": {"zh": "分档含下限、不含上限",
                          "en": "Each class includes its lower bound, not its upper"},
    "grids_roster": {"zh": "责任体系", "en": "Roster"},
    "grids_leader_grid": {"zh": "网格长", "en": "Grid leader"},
    "grids_leader_community": {"zh": "社区负责人(三级网格长)", "en": "Community leader"},
    "grids_leader_street": {"zh": "街道负责人(二级网格长)", "en": "Street leader"},
    "grids_leader_district": {"zh": "区负责人", "en": "District leader"},
    "grids_workers": {"zh": "网格员", "en": "Grid workers"},
    "grids_unit": {"zh": "包抓单位", "en": "Adopting unit"},
    "grids_unit_leader": {"zh": "包抓领导", "en": "Unit leader"},
    "grids_below": {"zh": "下辖", "en": "Inside"},
    "grids_rank": {"zh": "同级排名", "en": "Rank among peers"},
    "grids_lagging": {"zh": "{indicator}末位", "en": "Lowest on {indicator}"},
    "grids_unit_count": {"zh": "个", "en": ""},
    "grids_open_cases": {"zh": "在办案件", "en": "Open cases"},
    "grids_open_summary": {"zh": "共 {total} 件 · 超期 {overdue} 件",
                           "en": "{total} open · {overdue} overdue"},
    "grids_open_shown": {
        "zh": "(列出最紧急的 {shown} 件)",
        "en": " (the {shown} most urgent listed)",
    },
    "grids_no_open": {"zh": "暂无在办案件", "en": "No open cases"},
    "grids_col_case": {"zh": "案件编号", "en": "Case"},
    "grids_col_minor": {"zh": "小类", "en": "Class"},
    "grids_col_status": {"zh": "状态", "en": "Status"},
    "grids_col_deadline": {"zh": "处置时限", "en": "Deadline"},
    "grids_col_overdue": {"zh": "超期", "en": "Overdue"},
    "grids_worst": {
        "zh": "高发问题(立案数,按小类)",
        "en": "Most frequent problems (registered, by class)",
    },
    "grids_trend": {"zh": "逐日上报与结案", "en": "Reported vs closed per day"},
    "grids_no_cases": {"zh": "本期暂无立案", "en": "No cases registered in this period"},
    "grids_children": {"zh": "下辖{level}指标", "en": "{level} inside"},
    "grids_siblings": {"zh": "同社区网格指标", "en": "Grids of the same community"},
    "grids_col_name": {"zh": "名称", "en": "Name"},
    "grids_col_code": {"zh": "编码", "en": "Code"},
    "grids_col_grade": {"zh": "等级", "en": "Grade"},
    "grids_total": {"zh": "本级合计", "en": "Total"},
    "grids_csv": {"zh": "导出 CSV", "en": "Export CSV"},
    "grids_xlsx": {"zh": "导出 Excel", "en": "Export Excel"},
    # Monthly assessment page (城市管理综合考核, /rankings)
    "rank_title": {"zh": "城市管理综合考核", "en": "Monthly assessment"},
    "rank_lang_switch": {"zh": "English", "en": "中文"},
    "rank_month": {"zh": "考核月份", "en": "Month"},
    "rank_month_option": {"zh": "{year}年{month}月", "en": "{year}-{month:02d}"},
    "rank_this_month_tag": {"zh": "本月", "en": "this month"},
    "rank_published": {"zh": "已发布", "en": "Published"},
    "rank_published_at": {"zh": "{at} 由 {by} 发布", "en": "on {at} by {by}"},
    "rank_published_at_anon": {"zh": "{at} 发布", "en": "on {at}"},
    "rank_provisional": {"zh": "临时结果", "en": "Provisional"},
    "rank_provisional_hint": {"zh": "计算于 {at},随数据变化;发布后冻结",
                              "en": "computed {at}; changes with the data until published"},
    "rank_rules": {"zh": "细则", "en": "Rules"},
    "rank_publish": {"zh": "发布排名", "en": "Publish"},
    "rank_leader_only": {"zh": "只有领导账号登录后才能发布排名",
                         "en": "Only a logged-in leader can publish the ranking"},
    "rank_confirm": {"zh": "确认发布 {month} 的考核排名?发布后该月结果冻结,不再随数据变化。",
                     "en": "Publish the ranking of {month}? Its figures are then frozen and no "
                           "longer change with the data."},
    "rank_not_over": {"zh": "{month} 尚未结束,{at} 起可发布", "en": "{month} is not over yet: it "
                      "can be published from {at}"},
    "rank_already": {"zh": "{month} 已于 {at} 发布,不能重复发布(如需替换,请用命令行 "
                     "gridwatch publish --force)", "en": "{month} was already published on "
                     "{at}; to replace it use gridwatch publish --force"},
    "rank_done": {"zh": "{month} 考核排名已发布", "en": "{month} is published"},
    "rank_failed": {"zh": "无法完成", "en": "Could not do it"},
    "rank_unavailable": {"zh": "数据库暂不可达,稍后再试", "en": "Database unreachable: try again"},
    "rank_pptx": {"zh": "导出点评PPT", "en": "Meeting deck (PPTX)"},
    "rank_xlsx": {"zh": "导出 Excel", "en": "Export Excel"},
    "rank_district_score": {"zh": "全区均分", "en": "District mean"},
    "rank_problems": {"zh": "问题总数", "en": "Problems"},
    "rank_costly": {"zh": "扣{k}分及以上问题", "en": "Costing ≥ {k} points"},
    "rank_repeats": {"zh": "重复问题", "en": "Repeat problems"},
    "rank_spread": {"zh": "最高最低分差", "en": "Score gap"},
    "rank_ranked": {"zh": "参与排名街道", "en": "Streets ranked"},
    "rank_vs_last": {"zh": "较上月", "en": "vs last month"},
    "rank_vs_same_span": {"zh": "较上月同期", "en": "vs same span last month"},
    "rank_running_note": {"zh": "本月进行中:数据截至 {at},与上月同期(至 {until})比较;"
                                "连续末位只计已结束的月份",
                          "en": "Month in progress: data to {at}, compared with last month to "
                                "{until} (same span); streaks count finished months only"},
    "rank_running_link": {"zh": "本月进行中(临时)→", "en": "This month so far (provisional) →"},
    "rank_running_early": {"zh": "本月不足 {n} 天,默认显示上月", "en": "This month has run "
                           "under {n} days: last month is shown"},
    "rank_group_head": {"zh": "均分 {mean} · 分差 {spread}", "en": "mean {mean} · gap {spread}"},
    "rank_col_rank": {"zh": "排名", "en": "Rank"},
    "rank_col_group_rank": {"zh": "组内", "en": "Group"},
    "rank_col_street": {"zh": "街道(镇)", "en": "Street"},
    "rank_col_score": {"zh": "考核得分", "en": "Assessment score"},
    "rank_col_dscore": {"zh": "得分变化", "en": "Δ score"},
    "rank_col_drank": {"zh": "名次变化", "en": "Δ rank"},
    "rank_col_problems": {"zh": "问题数", "en": "Problems"},
    "rank_col_costly": {"zh": "扣{k}分+", "en": "≥ {k} pts"},
    "rank_col_repeats": {"zh": "重复", "en": "Rep."},
    "rank_col_flags": {"zh": "标记", "en": "Flags"},
    "rank_flag_bottom": {"zh": "倒数后{n}名", "en": "Bottom {n}"},
    "rank_flag_streak": {"zh": "连续{times}次后{n}名", "en": "{times}× in a row"},
    "rank_flag_sample": {"zh": "样本不足", "en": "Too few cases"},
    "rank_flag_sample_hint": {"zh": "问题数少于 {n} 件,不参与排名",
                              "en": "Fewer than {n} problems: not ranked"},
    "rank_breakdown": {"zh": "扣分明细", "en": "Deductions"},
    "rank_breakdown_hint": {"zh": "点击表格中的街道查看", "en": "Click a street in the tables"},
    "rank_points": {"zh": "扣分", "en": "Points"},
    "rank_group_mean": {"zh": "组内平均", "en": "Group mean"},
    "rank_cause_problems": {"zh": "问题扣分", "en": "Problems"},
    "rank_cause_repeat": {"zh": "重复加扣", "en": "Repeats"},
    "rank_cause_overdue": {"zh": "超期扣分", "en": "Overdue"},
    "rank_cause_rework": {"zh": "返工扣分", "en": "Rework"},
    "rank_capped": {"zh": "已封顶", "en": "capped"},
    "rank_bonus": {"zh": "志愿服务加分", "en": "Volunteer bonus"},
    "rank_hours": {"zh": "志愿服务时长", "en": "Volunteer hours"},
    "rank_overdue_problems": {"zh": "超期问题", "en": "Overdue problems"},
    "rank_rework_times": {"zh": "返工次数", "en": "Rework times"},
    "rank_total_deduction": {"zh": "扣分合计", "en": "Total deducted"},
    "rank_red": {"zh": "红榜", "en": "Red list"},
    "rank_black": {"zh": "黑榜", "en": "Black list"},
    "rank_list_streets": {"zh": "街道", "en": "Streets"},
    "rank_list_grids": {"zh": "网格", "en": "Grids"},
    "rank_grid_value": {"zh": "扣{points}分 · {n}件", "en": "{points} pts · {n}"},
    "rank_chart_change": {"zh": "得分环比(上月 → 本月)", "en": "Score, last month → this month"},
    "rank_chart_causes": {"zh": "扣分构成", "en": "Deductions by cause"},
    "rank_chart_repeats": {"zh": "重复问题(按出现次数)", "en": "Repeat problems by occurrence"},
    "rank_last_month": {"zh": "上月", "en": "Last month"},
    "rank_this_month": {"zh": "本月", "en": "This month"},
    "rank_occurrence": {"zh": "第{n}次", "en": "Occurrence {n}"},
    "rank_warnings": {"zh": "细则提示", "en": "Rules warnings"},
    "figure_empty": {"zh": "无数据", "en": "No data"},
    "back_grids": {"zh": "返回全区", "en": "Back to the district"},
    "rank_before_data": {"zh": "{month} 早于有立案数据的第一个月({first}),无可发布",
                         "en": "{month} is before the first month with registered cases "
                               "({first}): nothing to publish"},
    "rank_publisher_long": {"zh": "发布人姓名最多 {limit} 个字", "en": "The publisher's name "
                            "has at most {limit} characters"},
    "rank_bad_month": {"zh": "{month} 不是可查看的月份(YYYY-MM,{first} 至 {last}),显示 {shown}",
                       "en": "{month} is not a month that can be shown (YYYY-MM, {first} to "
                             "{last}): showing {shown}"},
    # Presentation mode (/present)
    "present_paused": {"zh": "已暂停", "en": "Paused"},
    "present_hint": {"zh": "← → 切换 · 空格 暂停/继续 · F 全屏",
                     "en": "← → step · Space pause/resume · F full screen"},
    "present_empty": {"zh": "播放列表为空", "en": "The playlist is empty"},
}


def t(key: str, lang: str = DEFAULT_LANGUAGE) -> str:
    """Return the word for ``key`` in ``lang``, falling back to Chinese."""
    entry = WORDS[key]
    return entry.get(lang) or entry[DEFAULT_LANGUAGE]


_vocabulary_file: str | None = None


def use_vocabulary(path: str | None) -> None:
    """Lay a city's vocabulary file over the shipped one (once, from ``create_app``).

    Read at once, so a broken file stops the start with its name, not the first English wall.
    """
    global _vocabulary_file
    load_vocabulary(path or None)
    _vocabulary_file = path or None


def term(word: str | None, lang: str = DEFAULT_LANGUAGE) -> str:
    """Return a database word (category, source, status, area …) in the UI language."""
    if not word:
        return word or ""
    return load_vocabulary(_vocabulary_file).english(word) if lang == "en" else word


def pick_language(value: str | None, default: str = DEFAULT_LANGUAGE) -> str:
    """Return a supported language for a URL or settings value."""
    return value if value in ("zh", "en") else default
