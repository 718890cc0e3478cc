"""Seed data of the sandbox HIS: departments, doctors, fees and the schedule pattern.

Everything here is deterministic: the same doctor, date and period always give the same
schedule id, slot ids and capacities, so a server that runs for days (or restarts) keeps
answering the same catalogue for the rolling window today .. today+7.
"""
from __future__ import annotations

import datetime as dt
import zlib
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

TZ = ZoneInfo("Asia/Shanghai")
WINDOW_DAYS = 8  # today .. today+7
RELEASE_DAYS_BEFORE = 7
RELEASE_TIME = dt.time(7, 0)
SLOT_MINUTES = 30
AVG_MINUTES_PER_PATIENT = 6
PERIOD_FLAGS = {"am": "1", "pm": "2", "night": "3"}  # HIS 午别 codes (TimeFlag)
PERIOD_NAMES = {"am": "上午", "pm": "下午", "night": "晚间"}
PERIOD_START = {"am": dt.time(8, 0), "pm": dt.time(13, 30), "night": dt.time(18, 0)}
PERIOD_SLOTS = {"am": 8, "pm": 8, "night": 4}

# 挂号费 + 诊查费 in yuan, by title (the HIS speaks yuan with two decimals).
FEES = {
    "主任医师": (Decimal("1.00"), Decimal("49.00")),
    "副主任医师": (Decimal("1.00"), Decimal("29.00")),
    "主治医师": (Decimal("1.00"), Decimal("14.00")),
}
TITLES = ("主任医师", "副主任医师", "主治医师")


@dataclass(frozen=True)
class Dept:
    code: str
    name: str
    parent: str = ""
    intro: str = ""
    location: str = ""


@dataclass(frozen=True)
class Doc:
    code: str
    name: str
    title: str
    dept: str
    specialty: str
    intro: str


TOP = [
    Dept("01", "内科", intro="内科系统门诊"),
    Dept("02", "外科", intro="外科系统门诊"),
    Dept("03", "妇产科", intro="妇科与产科门诊"),
    Dept("04", "儿科", intro="14岁以下儿童门诊"),
    Dept("05", "五官科", intro="眼、耳鼻喉与口腔门诊"),
    Dept("06", "皮肤科", intro="皮肤病与医学美容门诊"),
    Dept("07", "中医科", intro="中医与康复门诊"),
]

# child code, name, parent, intro, floor, specialties
_CHILDREN = [
    ("0101", "心血管内科", "01", "诊治高血压、冠心病、心律失常、心力衰竭等心血管疾病。", "门诊楼2层",
     ["高血压、冠心病的诊治", "心律失常与起搏治疗", "心力衰竭的综合管理"]),
    ("0102", "呼吸内科", "01", "诊治慢性咳嗽、哮喘、慢阻肺、肺部感染及肺结节。", "门诊楼2层",
     ["支气管哮喘、慢阻肺", "肺部感染与肺结节", "睡眠呼吸暂停"]),
    ("0103", "消化内科", "01", "诊治胃炎、消化性溃疡、肝病、炎症性肠病，开展胃肠镜检查。", "门诊楼3层",
     ["胃食管反流与胃炎", "消化内镜诊疗", "脂肪肝与病毒性肝炎"]),
    ("0104", "内分泌科", "01", "诊治糖尿病、甲状腺疾病、骨质疏松等内分泌代谢病。", "门诊楼3层",
     ["糖尿病及其并发症", "甲状腺疾病", "骨质疏松与肥胖"]),
    ("0201", "普通外科", "02", "诊治甲状腺、乳腺、胃肠、肝胆及疝等外科疾病。", "门诊楼4层",
     ["胆囊结石与腹腔镜手术", "甲状腺与乳腺外科", "疝与胃肠外科"]),
    ("0202", "骨科", "02", "诊治创伤骨折、颈腰椎病、关节疾病与运动损伤。", "门诊楼4层",
     ["颈椎病、腰椎间盘突出", "膝髋关节置换", "运动损伤与关节镜"]),
    ("0203", "泌尿外科", "02", "诊治泌尿系结石、前列腺疾病与泌尿系肿瘤。", "门诊楼4层",
     ["泌尿系结石", "前列腺增生", "泌尿系肿瘤"]),
    ("0301", "妇科", "03", "诊治妇科炎症、子宫肌瘤、月经失调，开展宫颈癌筛查。", "门诊楼5层",
     ["子宫肌瘤与卵巢囊肿", "月经失调与不孕", "宫颈疾病筛查"]),
    ("0302", "产科", "03", "孕期保健、产前检查与高危妊娠管理。", "门诊楼5层",
     ["高危妊娠管理", "产前检查与孕期保健", "妊娠期糖尿病"]),
    ("0401", "小儿内科", "04", "诊治儿童发热、腹泻、生长发育等常见病。", "门诊楼1层",
     ["儿童发热与感染", "小儿消化系统疾病", "生长发育评估"]),
    ("0402", "小儿呼吸科", "04", "诊治儿童咳嗽、肺炎、哮喘与过敏性鼻炎。", "门诊楼1层",
     ["儿童哮喘", "小儿肺炎", "过敏性鼻炎"]),
    ("0501", "眼科", "05", "诊治白内障、青光眼、屈光不正与眼底病。", "门诊楼6层",
     ["白内障", "青光眼", "近视防控与眼底病"]),
    ("0502", "耳鼻咽喉科", "05", "诊治鼻炎、鼻窦炎、中耳炎、咽喉疾病与听力障碍。", "门诊楼6层",
     ["慢性鼻窦炎", "中耳炎与听力下降", "咽喉疾病"]),
    ("0503", "口腔科", "05", "口腔内科、修复、正畸与拔牙。", "门诊楼6层",
     ["牙体牙髓病", "口腔修复与种植", "口腔正畸"]),
    ("0601", "皮肤内科", "06", "诊治湿疹、荨麻疹、银屑病、痤疮等皮肤病。", "门诊楼7层",
     ["湿疹与荨麻疹", "银屑病", "痤疮与色素性疾病"]),
    ("0602", "皮肤美容科", "06", "激光美容、瘢痕与皮肤老化治疗。", "门诊楼7层",
     ["激光与光子治疗", "瘢痕治疗", "皮肤老化"]),
    ("0701", "中医内科", "07", "中医辨证治疗内科杂病与体质调理。", "门诊楼8层",
     ["脾胃病的中医调理", "失眠与情志病", "亚健康体质调理"]),
    ("0702", "针灸推拿科", "07", "针灸、推拿治疗颈肩腰腿痛及面瘫等。", "门诊楼8层",
     ["颈肩腰腿痛", "面瘫与中风后遗症", "针灸减重"]),
]

CHILDREN = [Dept(c, n, p, i, f) for c, n, p, i, f, _ in _CHILDREN]
DEPARTMENTS = TOP + CHILDREN
DEPT_BY_CODE = {d.code: d for d in DEPARTMENTS}

_NAMES = (
    "王建国", "李淑芬", "张志强", "刘晓燕", "陈明华", "杨丽君", "赵卫东", "黄晓梅", "周海涛", "吴静", "徐建平", "孙红梅", "胡国庆",
    "朱慧敏", "高志远", "林秀英", "何伟", "郭晓红", "马俊杰", "罗雪梅", "梁振华", "宋佳怡", "郑国栋", "谢婷婷", "韩立新", "唐晓丽",
    "冯永刚", "于海燕", "董建华", "萧雅琴", "程浩", "曹丽娟", "袁志刚", "邓春燕", "许文博", "傅敏", "沈建军", "曾晓玲", "彭德胜",
    "吕琳", "苏振宇", "卢美华", "蒋立群", "蔡文静", "贾春生", "丁雪芳", "魏国强", "薛晓东", "叶青", "阎明", "余志华", "潘玉兰",
    "杜鹏", "戴秀珍", "夏立军", "钟慧", "汪永红", "田博文", "任晓霞", "姜涛",
)


def _doctors() -> list[Doc]:
    """Build 2–4 doctors per child department, titles descending, names from a fixed pool."""
    doctors, pool = [], iter(_NAMES)
    for idx, (code, dept_name, _p, _i, _f, specialties) in enumerate(_CHILDREN):
        for n in range(2 + idx % 3):
            title = TITLES[min(n, 2)]
            name = next(pool)
            years = 30 - 6 * min(n, 2) - idx % 4
            intro = (f"{name}，{title}，{dept_name}医师，从事临床工作{years}年，"
                     f"擅长{specialties[n % 3]}。")
            doctors.append(Doc(f"D{code}{n + 1:02d}", name, title, code, specialties[n % 3], intro))
    return doctors


DOCTORS = _doctors()
DOCTOR_BY_CODE = {d.code: d for d in DOCTORS}


def fee_of(title: str) -> tuple[Decimal, Decimal]:
    """(挂号费, 诊查费) in yuan for a title."""
    return FEES.get(title, FEES["主治医师"])


def release_at(date: dt.date) -> dt.datetime:
    """When the schedule of a date is released: 07:00 seven days before."""
    return dt.datetime.combine(date - dt.timedelta(days=RELEASE_DAYS_BEFORE), RELEASE_TIME, TZ)


def seeded_periods(doctor_code: str, date: dt.date) -> list[str]:
    """The sessions a doctor works on a date: am, pm or both (deterministic)."""
    pick = zlib.crc32(f"{doctor_code}|{date.isoformat()}".encode()) % 3
    return [["am"], ["pm"], ["am", "pm"]][pick]


def seeded_capacities(schedule_id: str, count: int) -> list[int]:
    """Per-slot capacities 2–4 (deterministic by schedule id)."""
    return [2 + zlib.crc32(f"{schedule_id}|{i}".encode()) % 3 for i in range(count)]


def schedule_id(doctor_code: str, date: dt.date, period: str, extra: int = 0) -> str:
    """Stable schedule id, e.g. ``S20250301D010101A``; extra sessions get a suffix."""
    base = f"S{date:%Y%m%d}{doctor_code}{period[0].upper()}"
    return base if not extra else f"{base}X{extra}"


def slot_id(sched_id: str, index: int) -> str:
    """Stable slot (time point) id."""
    return f"{sched_id}-{index + 1:02d}"


def slot_times(date: dt.date, start: dt.time, count: int) -> list[tuple[dt.datetime, dt.datetime]]:
    """Consecutive 30-minute slots from start."""
    first = dt.datetime.combine(date, start, TZ)
    step = dt.timedelta(minutes=SLOT_MINUTES)
    return [(first + i * step, first + (i + 1) * step) for i in range(count)]


def spread(capacity: int, count: int) -> list[int]:
    """Spread a total capacity over count slots as evenly as possible."""
    base, rest = divmod(capacity, count)
    return [base + (1 if i < rest else 0) for i in range(count)]


# -- people the hospital already knows (identity check, find_patient) -----------------------
# Registered at the window before the mini-program existed, each with the phone on file to which
# the BFF sends its verification code. Adding one of them in the mini-program asks for that code.
DEMO_PATIENTS = (
    # (name, ID number, phone on file, sex 1 男 / 2 女, birthday)
    ("王建国", "110101198001010010", "13800000000", "1", "1980-01-01"),
    ("阿依古丽·买买提", "650102198506120022", "13800000001", "2", "1985-06-12"),
    ("李秀英", "110105199208150037", "13800000002", "1", "1992-08-15"),
)
