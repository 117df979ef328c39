"""Demo data for the ledger: about 300 customers of the three demo teams, with contacts,
six months of follow-ups, stage changes, ownership changes and collaborators.

Everything is written through the ledger's services with the clock set to the moment it
happened, so duplicate keys, search tokens, histories and audit entries are what the app
itself would have written. The data keep to the product's rules as they will be enforced
(PRODUCT.md, section 2): an owner follows an open customer up at least every 14 days and
wins it within 90 days of taking it, or it is back in the public pool; won customers stay.

The data are generated from a fixed seed (the same companies and people every time);
dates are relative to today. `seed()` does nothing once demo users have created customers.
"""

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from rapidfuzz import fuzz, process
from sqlalchemy import select

from .. import clock, settings
from ..auth.demo import DOMAIN, TEAMS
from ..auth.models import User
from ..database import write_transaction
from ..extensions import db
from . import keys, search, services
from .models import Customer, Stage
from .services import ContactInput, CustomerInput, DuplicateFound

SEED = 3

# What became of each team's customers (99 a team, 16 of them in the pool).
OPEN_COUNTS = {
    Stage.LEAD: 19,
    Stage.CONTACTED: 17,
    Stage.QUALIFIED: 12,
    Stage.QUOTED: 10,
    Stage.NEGOTIATING: 8,
}
WON_COUNT = 14
LOST_COUNT = 3  # lost in the last two weeks, still with their owner
POOL_COUNTS = {"new": 6, "no_follow_up": 4, "no_deal": 2, "released": 4}
CUSTOMERS_PER_TEAM = sum(OPEN_COUNTS.values()) + WON_COUNT + LOST_COUNT + sum(POOL_COUNTS.values())

# The rules the history keeps to (defaults of PRODUCT.md, section 2).
MAX_GAP = 13  # days between an owner's follow-ups: reclaimed after 15 without one
RECLAIM_AFTER = 15
DEAL_DAYS = 88  # open customers were taken less than 90 days ago
RECLAIM_NO_DEAL = 90
HISTORY_DAYS = 178

# Age in days of open customers by stage (a lead is new, a negotiation has a history).
OPEN_AGES = {
    Stage.LEAD: (1, 21),
    Stage.CONTACTED: (5, 40),
    Stage.QUALIFIED: (15, 60),
    Stage.QUOTED: (25, 80),
    Stage.NEGOTIATING: (35, DEAL_DAYS),
}
PATH = [Stage.CONTACTED, Stage.QUALIFIED, Stage.QUOTED, Stage.NEGOTIATING]
DEAL_PHASES = [(kind, stage) for kind in ("enter", "ongoing") for stage in (Stage.QUOTED, Stage.NEGOTIATING)]

# ---- places ---------------------------------------------------------------------------

# Each team's territory: province -> (weight, cities; districts for municipalities).
TERRITORIES = {
    "华东大区": {
        "上海": (14, ["浦东新区", "闵行区", "嘉定区", "松江区"]),
        "江苏": (24, ["南京", "苏州", "无锡", "常州", "南通"]),
        "浙江": (22, ["杭州", "宁波", "温州", "嘉兴", "绍兴", "金华"]),
        "安徽": (8, ["合肥", "芜湖"]),
        "山东": (12, ["济南", "青岛", "烟台", "潍坊"]),
        "江西": (4, ["南昌"]),
    },
    "华南大区": {
        "广东": (34, ["广州", "深圳", "东莞", "佛山", "珠海", "中山", "惠州", "汕头"]),
        "福建": (12, ["福州", "厦门", "泉州"]),
        "广西": (6, ["南宁", "柳州", "桂林"]),
        "海南": (3, ["海口", "三亚"]),
        "湖南": (8, ["长沙", "株洲"]),
        "四川": (10, ["成都", "绵阳"]),
        "重庆": (7, ["渝北区", "江北区", "九龙坡区"]),
        "云南": (4, ["昆明"]),
    },
    "华北大区": {
        "北京": (24, ["朝阳区", "海淀区", "大兴区", "顺义区"]),
        "天津": (10, ["滨海新区", "西青区"]),
        "河北": (12, ["石家庄", "唐山", "保定", "廊坊"]),
        "山西": (5, ["太原"]),
        "内蒙古": (3, ["呼和浩特", "包头"]),
        "河南": (9, ["郑州", "洛阳"]),
        "辽宁": (8, ["沈阳", "大连"]),
        "陕西": (6, ["西安"]),
        "湖北": (7, ["武汉"]),
    },
}
MUNICIPALITIES = {"上海", "北京", "天津", "重庆"}

# city -> (telephone area code, administrative division code used in credit codes)
CITY_CODES = {
    "浦东新区": ("021", "310115"),
    "闵行区": ("021", "310112"),
    "嘉定区": ("021", "310114"),
    "松江区": ("021", "310117"),
    "南京": ("025", "320100"),
    "无锡": ("0510", "320200"),
    "常州": ("0519", "320400"),
    "苏州": ("0512", "320500"),
    "南通": ("0513", "320600"),
    "杭州": ("0571", "330100"),
    "宁波": ("0574", "330200"),
    "温州": ("0577", "330300"),
    "嘉兴": ("0573", "330400"),
    "绍兴": ("0575", "330600"),
    "金华": ("0579", "330700"),
    "合肥": ("0551", "340100"),
    "芜湖": ("0553", "340200"),
    "济南": ("0531", "370100"),
    "青岛": ("0532", "370200"),
    "烟台": ("0535", "370600"),
    "潍坊": ("0536", "370700"),
    "南昌": ("0791", "360100"),
    "广州": ("020", "440100"),
    "深圳": ("0755", "440300"),
    "珠海": ("0756", "440400"),
    "汕头": ("0754", "440500"),
    "佛山": ("0757", "440600"),
    "惠州": ("0752", "441300"),
    "东莞": ("0769", "441900"),
    "中山": ("0760", "442000"),
    "福州": ("0591", "350100"),
    "厦门": ("0592", "350200"),
    "泉州": ("0595", "350500"),
    "南宁": ("0771", "450100"),
    "柳州": ("0772", "450200"),
    "桂林": ("0773", "450300"),
    "海口": ("0898", "460100"),
    "三亚": ("0898", "460200"),
    "长沙": ("0731", "430100"),
    "株洲": ("0731", "430200"),
    "成都": ("028", "510100"),
    "绵阳": ("0816", "510700"),
    "渝北区": ("023", "500112"),
    "江北区": ("023", "500105"),
    "九龙坡区": ("023", "500107"),
    "昆明": ("0871", "530100"),
    "朝阳区": ("010", "110105"),
    "海淀区": ("010", "110108"),
    "大兴区": ("010", "110115"),
    "顺义区": ("010", "110113"),
    "滨海新区": ("022", "120116"),
    "西青区": ("022", "120111"),
    "石家庄": ("0311", "130100"),
    "唐山": ("0315", "130200"),
    "保定": ("0312", "130600"),
    "廊坊": ("0316", "131000"),
    "太原": ("0351", "140100"),
    "呼和浩特": ("0471", "150100"),
    "包头": ("0472", "150200"),
    "郑州": ("0371", "410100"),
    "洛阳": ("0379", "410300"),
    "沈阳": ("024", "210100"),
    "大连": ("0411", "210200"),
    "西安": ("029", "610100"),
    "武汉": ("027", "420100"),
}


def _pairs(text):
    """ "恒达:hengda 华盛:huasheng" -> [("恒达", "hengda"), ("华盛", "huasheng")]"""
    return [tuple(item.split(":")) for item in text.split()]


# Trade names (字号), with their pinyin for web domains.
BRANDS = _pairs(
    "恒达:hengda 华盛:huasheng 鑫源:xinyuan 瑞丰:ruifeng 宏远:hongyuan 博创:bochuang 嘉禾:jiahe "
    "信诚:xincheng 德利:deli 明达:mingda 安康:ankang 润通:runtong 联创:lianchuang 锦程:jincheng "
    "天成:tiancheng 亿达:yida 海纳:haina 金鼎:jinding 百川:baichuan 永盛:yongsheng 佳和:jiahe "
    "益康:yikang 卓越:zhuoyue 腾飞:tengfei 凯旋:kaixuan 旭日:xuri 晟达:shengda 昊天:haotian "
    "中恒:zhongheng 和顺:heshun 祥瑞:xiangrui 云峰:yunfeng 恩泽:enze 科瑞:kerui 思远:siyuan "
    "睿智:ruizhi 智捷:zhijie 蓝海:lanhai 青禾:qinghe 星辰:xingchen 汇通:huitong 聚源:juyuan "
    "合众:hezhong 诺达:nuoda 协力:xieli 鼎盛:dingsheng 隆泰:longtai 福顺:fushun 广润:guangrun "
    "启航:qihang 骏驰:junchi 朗润:langrun 优品:youpin 维康:weikang 美嘉:meijia 恒信:hengxin "
    "华信:huaxin 金桥:jinqiao 天润:tianrun 同创:tongchuang 众信:zhongxin 远航:yuanhang "
    "华瑞:huarui 瑞祥:ruixiang 宏达:hongda 鸿运:hongyun 富源:fuyuan 嘉信:jiaxin 亚泰:yatai "
    "海润:hairun 欣荣:xinrong 宝丰:baofeng 德润:derun 泰和:taihe 嘉诚:jiacheng 金诚:jincheng "
    "恒昌:hengchang 永泰:yongtai 安达:anda 通达:tongda 顺达:shunda 丰源:fengyuan 宏图:hongtu "
    "博远:boyuan 天宇:tianyu 星河:xinghe 恒润:hengrun 俊达:junda 开元:kaiyuan 中天:zhongtian "
    "和信:hexin 万隆:wanlong 盛世:shengshi 金达:jinda 佳顺:jiashun 华美:huamei 康泰:kangtai "
    "百润:bairun 昌盛:changsheng 瑞鑫:ruixin 新宇:xinyu 嘉隆:jialong 洪福:hongfu 晨曦:chenxi "
    "青松:qingsong 碧泉:biquan 雅居:yaju 锦华:jinhua 恒远:hengyuan 凯达:kaida 鹏达:pengda "
    "飞扬:feiyang 卓成:zhuocheng 智远:zhiyuan 立达:lida 冠华:guanhua 睿达:ruida 尚品:shangpin "
    "优诺:younuo 英华:yinghua 精诚:jingcheng 匠心:jiangxin 银丰:yinfeng 泓泰:hongtai "
    "沃德:wode 博瑞:borui 新锐:xinrui 领航:linghang 安泰:antai 瀚海:hanhai 景和:jinghe "
    "润泽:runze 海川:haichuan 德信:dexin 君安:junan 明珠:mingzhu 华宇:huayu 鑫达:xinda "
    "宏盛:hongsheng 丰泽:fengze 东升:dongsheng 金穗:jinsui 誉丰:yufeng 恒通:hengtong"
)
# Regional marks that trade names often start with (蓉锦, 沪通, 粤海 …).
REGION_MARKS = {
    "上海": ("沪", "hu"),
    "江苏": ("苏", "su"),
    "浙江": ("浙", "zhe"),
    "安徽": ("皖", "wan"),
    "山东": ("鲁", "lu"),
    "江西": ("赣", "gan"),
    "广东": ("粤", "yue"),
    "福建": ("闽", "min"),
    "广西": ("桂", "gui"),
    "海南": ("琼", "qiong"),
    "湖南": ("湘", "xiang"),
    "四川": ("蜀", "shu"),
    "重庆": ("渝", "yu"),
    "云南": ("滇", "dian"),
    "北京": ("京", "jing"),
    "天津": ("津", "jin"),
    "河北": ("冀", "ji"),
    "山西": ("晋", "jin"),
    "内蒙古": ("蒙", "meng"),
    "河南": ("豫", "yu"),
    "辽宁": ("辽", "liao"),
    "陕西": ("秦", "qin"),
    "湖北": ("楚", "chu"),
}
CITY_MARKS = {
    "成都": ("蓉", "rong"),
    "深圳": ("鹏", "peng"),
    "广州": ("穗", "sui"),
    "杭州": ("杭", "hang"),
    "宁波": ("甬", "yong"),
    "厦门": ("鹭", "lu"),
}
# Combinations that mean something else: the Soviet Union, a city, a county, a district.
AWKWARD_BRANDS = {"苏联", "琼海", "秦安", "晋安"}
MARK_SECONDS = _pairs(
    "通:tong 兴:xing 达:da 信:xin 锦:jin 海:hai 华:hua 盛:sheng 安:an 润:run 丰:feng 源:yuan "
    "泰:tai 宏:hong 恒:heng 嘉:jia 康:kang 联:lian 鑫:xin 诚:cheng 辉:hui 峰:feng 禾:he 鼎:ding"
)

# ---- trades ---------------------------------------------------------------------------


@dataclass
class Sector:
    """An industry as the form offers it, with what a salesperson talks about there."""

    words: list  # what company names in this trade end with, before the legal form
    weight: int
    short: str  # 制造业 -> "制造" as in "制造行业案例"
    product: str  # what the demo company sells them
    site: str  # where a visit takes you
    objects: str  # what they keep in Excel today
    pain: str
    unit: str  # their branches: 分厂, 门店 …
    features: list
    needs: list
    modules: list  # what they may buy later
    titles: list  # trade-specific titles of contacts


SECTORS = {
    "制造业": Sector(
        words=(
            "精密机械 机械设备 模具 五金制品 塑胶制品 自动化设备 包装材料 电气 "
            "阀门 轴承 环保设备 智能装备 不锈钢制品 纺织 家具"
        ).split(),
        weight=24,
        short="制造",
        product="生产管理系统",
        site="生产车间",
        objects="生产订单和物料",
        pain="生产进度全靠班组长在群里报数，经常对不上",
        unit="分厂",
        features="车间扫码报工 订单进度看板 扫码领料".split(),
        needs="工单扫码报工 物料批次追溯 和ERP同步订单 设备点检提醒 车间电子看板".split(),
        modules="设备管理 质量追溯 仓库条码".split(),
        titles="厂长 生产经理 设备主管".split(),
    ),
    "软件和信息技术": Sector(
        words="软件 信息技术 网络科技 数据科技 智能科技".split(),
        weight=6,
        short="软件",
        product="项目协同平台",
        site="研发中心",
        objects="项目进度和工时",
        pain="项目进度和工时都靠表格汇总，常常延期了才发现",
        unit="分公司",
        features="工时填报 项目看板".split(),
        needs="项目工时统计 合同回款跟踪 和企业微信打通 多项目看板".split(),
        modules="合同回款 客户门户".split(),
        titles="技术总监 项目经理".split(),
    ),
    "电子商务": Sector(
        words="电子商务 电商科技 供应链管理".split(),
        weight=5,
        short="电商",
        product="订单管理系统",
        site="仓库",
        objects="多平台订单和库存",
        pain="几个平台的订单要人工导表，大促时还会超卖",
        unit="仓库",
        features="多平台订单合并 库存同步".split(),
        needs="多店铺订单统一处理 库存实时同步 快递面单打印 售后工单".split(),
        modules="分销管理 直播订单".split(),
        titles="运营总监 仓储经理".split(),
    ),
    "批发零售": Sector(
        words="商贸 贸易 百货 连锁超市 进出口 医药连锁".split(),
        weight=10,
        short="商贸",
        product="进销存系统",
        site="门店和仓库",
        objects="进货、销售和库存",
        pain="进货和库存全靠手工记账，月底盘点差异很大",
        unit="门店",
        features="手机开单 库存预警".split(),
        needs="门店之间调拨 会员积分 供应商对账 手机开单".split(),
        modules="会员营销 供应商门户".split(),
        titles="店长 区域经理".split(),
    ),
    "金融": Sector(
        words="融资租赁 商业保理 保险代理".split(),
        weight=3,
        short="金融",
        product="客户管理系统",
        site="营业部",
        objects="客户资料和合同",
        pain="客户资料分散在业务员手里，人一走资料就断了",
        unit="营业部",
        features="客户360视图 合同到期提醒".split(),
        needs="客户资料集中管理 合同到期提醒 审批流程线上化 权限分级".split(),
        modules="风控审批 电子签章".split(),
        titles="风控总监 业务总监".split(),
    ),
    "医疗健康": Sector(
        words="医疗器械 生物科技 医药 口腔医院 健康管理".split(),
        weight=8,
        short="医疗",
        product="耗材管理系统",
        site="仓库和科室",
        objects="耗材出入库",
        pain="高值耗材靠手工登记，效期经常管不过来",
        unit="院区",
        features="耗材扫码出入库 效期预警".split(),
        needs="高值耗材扫码追溯 效期预警 科室申领审批 供应商资质管理".split(),
        modules="供应商协同 设备维保".split(),
        titles="质量经理 仓储主管".split(),
    ),
    "教育培训": Sector(
        words="教育科技 职业技能培训学校 教育咨询 文化艺术培训学校".split(),
        weight=6,
        short="教育",
        product="教务管理系统",
        site="校区",
        objects="排课和学员",
        pain="排课和消课都在表格里，家长经常问课时对不上",
        unit="校区",
        features="一键排课 课时统计".split(),
        needs="一键排课 课时自动扣减 家长端通知 招生线索管理".split(),
        modules="家校沟通 招生管理".split(),
        titles="校长 教务主任".split(),
    ),
    "建筑工程": Sector(
        words="建筑工程 建设工程 装饰工程 市政工程 钢结构工程 幕墙工程".split(),
        weight=8,
        short="建筑",
        product="项目管理系统",
        site="项目工地",
        objects="工程进度和材料",
        pain="各个工地的进度和材料都靠微信群汇报，老板看不到全局",
        unit="项目部",
        features="工地日报 材料进出场登记".split(),
        needs="项目进度填报 材料进出场管理 分包结算 安全巡检".split(),
        modules="劳务实名制 安全巡检".split(),
        titles="项目经理 总工程师".split(),
    ),
    "物流运输": Sector(
        words="物流 供应链 国际货运代理 冷链物流 运输".split(),
        weight=8,
        short="物流",
        product="运输管理系统",
        site="分拣中心",
        objects="运单和车辆",
        pain="调度全靠电话和微信，纸质回单经常丢",
        unit="分拨中心",
        features="智能调度 电子回单".split(),
        needs="运单全程跟踪 电子回单 司机端APP 运费自动结算".split(),
        modules="车辆管理 客户自助查询".split(),
        titles="调度经理 运营总监".split(),
    ),
    "能源化工": Sector(
        words="新能源科技 化工 光伏科技 涂料 能源".split(),
        weight=5,
        short="能源化工",
        product="设备巡检系统",
        site="厂区",
        objects="设备巡检和隐患",
        pain="巡检还是纸质记录，隐患整改跟不上",
        unit="厂区",
        features="扫码巡检 隐患闭环".split(),
        needs="巡检路线管理 隐患整改闭环 安全培训记录 设备台账".split(),
        modules="危化品管理 能耗监测".split(),
        titles="安全总监 设备经理".split(),
    ),
    "汽车": Sector(
        words="汽车零部件 汽车销售服务 汽车服务".split(),
        weight=5,
        short="汽车",
        product="售后服务系统",
        site="维修车间",
        objects="维修工单和配件",
        pain="维修工单和配件领用对不上，客户回访也没人跟",
        unit="门店",
        features="电子工单 配件库存".split(),
        needs="维修工单电子化 配件出入库 客户回访提醒 保养到期提醒".split(),
        modules="会员营销 配件采购".split(),
        titles="售后经理 服务总监".split(),
    ),
    "食品饮料": Sector(
        words="食品 饮品 乳业 调味品 茶业 酒业".split(),
        weight=6,
        short="食品",
        product="生产追溯系统",
        site="生产车间",
        objects="原料批次和成品",
        pain="原料批次记录不全，客户要追溯时要查半天",
        unit="工厂",
        features="批次追溯 质检记录".split(),
        needs="原料批次追溯 质检记录 经销商订货 保质期预警".split(),
        modules="经销商订货 冷链监控".split(),
        titles="品控经理 生产经理".split(),
    ),
    "文化传媒": Sector(
        words="文化传媒 广告 影视文化 会展服务 印务".split(),
        weight=4,
        short="传媒",
        product="项目协同平台",
        site="办公室",
        objects="项目和客户",
        pain="项目多、人手少，进度和成本全靠脑子记",
        unit="分公司",
        features="项目看板 成本核算".split(),
        needs="项目成本核算 客户合同管理 素材归档 审批线上化".split(),
        modules="素材库 合同回款".split(),
        titles="客户总监 制片主管".split(),
    ),
    "餐饮酒店": Sector(
        words="餐饮管理 酒店管理 餐饮连锁".split(),
        weight=7,
        short="餐饮",
        product="门店管理系统",
        site="中央厨房",
        objects="门店订货和库存",
        pain="各门店订货靠微信群接龙，月底对账很麻烦",
        unit="门店",
        features="门店订货 库存盘点".split(),
        needs="门店线上订货 中央厨房排产 门店盘点 菜品成本核算".split(),
        modules="会员营销 外卖对接".split(),
        titles="店长 区域经理".split(),
    ),
    "房地产": Sector(
        words="房地产开发 物业服务 置业".split(),
        weight=4,
        short="物业",
        product="物业管理系统",
        site="小区项目",
        objects="报修和收费",
        pain="报修和收费都是纸质单据，业主投诉处理慢",
        unit="项目",
        features="业主报修 线上缴费".split(),
        needs="业主报修派单 物业费线上缴纳 巡更管理 收费报表".split(),
        modules="停车管理 社区团购".split(),
        titles="物业经理 客服主管".split(),
    ),
    "农业": Sector(
        words="农业科技 生态农业 农牧 种业".split(),
        weight=3,
        short="农业",
        product="农产品溯源系统",
        site="种植基地",
        objects="种植和采收记录",
        pain="种植记录靠手写，商超要溯源码时拿不出来",
        unit="基地",
        features="农事记录 溯源码".split(),
        needs="农事记录 溯源码生成 采收和库存 订单管理".split(),
        modules="基地物联网 电商对接".split(),
        titles="基地经理".split(),
    ),
    "其他": Sector(
        words="人力资源 检测技术 企业管理咨询 环境科技".split(),
        weight=3,
        short="服务",
        product="客户管理系统",
        site="办公室",
        objects="客户和项目",
        pain="客户资料散在各人的微信和表格里",
        unit="分公司",
        features="客户跟进 数据看板".split(),
        needs="客户资料集中 跟进提醒 业绩报表 审批流程".split(),
        modules="合同管理 数据看板".split(),
        titles="运营经理".split(),
    ),
}
SCHOOL_WORDS = ("职业技能培训学校", "文化艺术培训学校")  # 民办非企业单位: no 有限公司, code 52…
# Trades of small businesses: never a grade A account.
SMALL_WORDS = (*SCHOOL_WORDS, "口腔医院", "教育咨询", "广告", "印务", "汽车服务", "百货", "商贸")

# ---- people ---------------------------------------------------------------------------

SURNAMES = _pairs(
    "王:wang 李:li 张:zhang 刘:liu 陈:chen 杨:yang 黄:huang 赵:zhao 吴:wu 周:zhou 徐:xu 孙:sun "
    "马:ma 朱:zhu 胡:hu 郭:guo 何:he 高:gao 林:lin 罗:luo 郑:zheng 梁:liang 谢:xie 宋:song 唐:tang "
    "许:xu 韩:han 冯:feng 邓:deng 曹:cao 彭:peng 曾:zeng 肖:xiao 田:tian 董:dong 袁:yuan 潘:pan "
    "蒋:jiang 蔡:cai 余:yu 杜:du 叶:ye 程:cheng 苏:su 魏:wei 吕:lv 丁:ding 任:ren 沈:shen 姚:yao "
    "卢:lu 姜:jiang 崔:cui 钟:zhong 谭:tan 陆:lu 汪:wang 范:fan 金:jin 石:shi 廖:liao 贾:jia 夏:xia "
    "韦:wei 方:fang 白:bai 邹:zou 孟:meng 熊:xiong 秦:qin 邱:qiu 江:jiang 尹:yin 薛:xue 段:duan "
    "雷:lei 侯:hou 龙:long 陶:tao 贺:he 顾:gu 毛:mao 郝:hao 龚:gong 邵:shao 钱:qian 严:yan 戴:dai"
)
# Surnames more frequent in a region than elsewhere.
REGIONAL_SURNAMES = {
    "华东大区": "徐 沈 顾 陆 钱 朱 周 吴 汪",
    "华南大区": "陈 林 黄 梁 何 郑 罗 李 谢 曾 邓 钟 韦",
    "华北大区": "王 张 刘 李 赵 孙 高 郭 马 田",
}
MALE_NAMES = (
    "建国 伟 磊 军 勇 杰 涛 明 超 强 斌 海涛 建华 国平 俊杰 文博 浩然 子轩 晓东 永刚 立新 振华 鹏飞 德明 "
    "家豪 天宇 云峰 卫东 新民 建军 春生 志刚 海波 晓峰 凯 志明 国庆 宏伟 建平 小龙 俊 亮 波 刚 鑫 浩 宇 "
    "一鸣 子豪 伟民 振宇 少华 锦华 泽宇 文杰 国栋 海峰"
).split()
FEMALE_NAMES = (
    "丽 娟 敏 静 艳 芳 婷 霞 燕 玲 秀英 桂英 丽华 晓燕 雪梅 美玲 佳怡 思琪 欣怡 雨婷 丹 倩 璐 慧 颖 琳 "
    "蕾 晶晶 小红 春梅 海燕 玉兰 红梅 淑芬 丽娟 文静 晓丽 梦瑶 诗涵 可欣 雅琴 佩玲 惠珍 嘉欣"
).split()

# (title, weight): who a salesperson deals with first, and who else they meet.
FIRST_TITLES = [
    ("总经理", 26),
    ("副总经理", 12),
    ("董事长", 5),
    ("采购经理", 12),
    ("运营总监", 6),
    ("信息部经理", 8),
    ("行政经理", 6),
    ("财务总监", 4),
]
OTHER_TITLES = [
    ("采购经理", 10),
    ("财务经理", 8),
    ("财务总监", 4),
    ("IT主管", 8),
    ("行政主管", 5),
    ("采购专员", 6),
    ("项目经理", 5),
    ("总经理助理", 4),
]
HOSPITAL_TITLES = [("院长", 8), ("设备科主任", 6), ("信息科主任", 6), ("院办主任", 3)]
MOBILE_PREFIXES = (
    "130 131 132 133 134 135 136 137 138 139 150 151 152 153 155 156 157 158 159 "
    "180 181 182 183 184 185 186 187 188 189 191 193 195 198 199"
).split()

# ---- what customers are like ------------------------------------------------------------

GRADE_WEIGHTS = {
    Stage.LEAD: (5, 20, 45, 30),
    Stage.CONTACTED: (8, 25, 45, 22),
    Stage.QUALIFIED: (12, 33, 40, 15),
    Stage.QUOTED: (15, 38, 35, 12),
    Stage.NEGOTIATING: (22, 40, 30, 8),
    Stage.WON: (18, 37, 35, 10),
    Stage.LOST: (10, 30, 40, 20),
}
AMOUNTS = {"A": (300_000, 1_800_000), "B": (100_000, 400_000), "C": (30_000, 120_000), "D": (8_000, 30_000)}
SEATS = {"A": (100, 400), "B": (40, 150), "C": (10, 50), "D": (3, 15)}
SOURCES = [
    ("cold_call", 30),
    ("referral", 20),
    ("exhibition", 18),
    ("website", 10),
    ("advertising", 8),
    ("other", 14),
]

CONCERNS = (
    "交期",
    "售后响应速度",
    "数据安全",
    "和现有系统的对接",
    "实施周期",
    "员工培训",
    "私有化部署",
    "手机端体验",
    "付款方式",
)
BUSY = ("赶一批急单", "月底结账", "迎接年审", "新店开业", "搬新厂", "内部审计", "参加展会", "迎接上级检查")
STRENGTHS = ("同行案例多、上线快", "本地有实施团队，响应快", "价格透明，没有隐形收费", "支持私有化部署")
PAY_TERMS = ("签约付30%、上线付60%、验收付10%", "首付50%、验收后付清", "首付40%、上线40%、质保金20%")
SYSTEMS = ("金蝶", "用友", "自己开发的老系统", "管家婆")
FEEDBACK = ("数据比以前准了，月底对账省了不少时间", "一线员工上手很快", "报表比原来方便多了")

# ---- follow-ups -------------------------------------------------------------------------
# (channel, content, next step[, sources it fits]). {when} names the next follow-up date
# as a salesperson would (明天, 下周三, 5月12日); templates with it are used only when
# there is one, on a working day.

TEMPLATES = {
    "attempt": [
        ("phone", "第一次电话联系{who}，对方在开会，说{when}再聊。", "再次电话联系"),
        (
            "phone",
            "打对方公司总机，转到采购部，对方让先把资料发到邮箱，没有留负责人电话。",
            "发送公司介绍和案例",
        ),
        ("wechat", "加了{who}的微信，发了公司介绍和{short}行业案例，暂未回复。", "电话确认是否看过资料"),
        ("email", "给{who}发了{product}的介绍资料和演示视频链接。", "电话确认是否收到"),
        ("phone", "电话没接通，发短信说明了来意，{when}再打。", "再次电话联系"),
    ],
    ("enter", Stage.CONTACTED): [
        (
            "phone",
            "电话联系上{who}，介绍了我们的{product}。对方现在用Excel和微信群管理{objects}，觉得效率低，"
            "有兴趣了解，约{when}线上演示。",
            "线上演示{product}",
            ("cold_call", "other"),
        ),
        (
            "visit",
            "到{place}拜访{who}，参观了{site}。对方{pain}，对我们的方案有兴趣，想先看看同行的案例。",
            "发送{short}行业案例",
            ("cold_call", "referral", "other", "exhibition"),
        ),
        (
            "wechat",
            "{who}通过老客户介绍加了微信，想了解{product}的大概价格，先发了报价区间，约{when}电话详谈。",
            "电话沟通需求",
            ("referral",),
        ),
        (
            "phone",
            "回访官网留言，{who}说他们有{seats}个人要用，现在{pain}。约了{when}上门交流。",
            "上门交流",
            ("website",),
        ),
        (
            "phone",
            "展会上留过名片的{who}，电话回访时对方还记得我们，对{feature}比较感兴趣，约{when}线上演示。",
            "线上演示",
            ("exhibition",),
        ),
        (
            "phone",
            "{who}看到我们在行业公众号上的广告，打电话来咨询{product}，约{when}线上演示。",
            "线上演示",
            ("advertising",),
        ),
    ],
    ("ongoing", Stage.CONTACTED): [
        ("wechat", "给{who}发了{short}行业的客户案例和功能清单，对方说转给老板看看。", "确认老板意见"),
        ("phone", "电话回访{who}，对方最近忙着{busy}，说{when}再约时间细聊。", "约时间细聊"),
        (
            "meeting",
            "线上演示{product}，{who}和{who2}参加，重点看了{feature}，反馈操作比现在的方式简单不少。",
            "整理需求清单",
        ),
        ("email", "按{who}的要求发送了产品白皮书和两家{short}客户的案例介绍。", "电话确认是否需要上门演示"),
        (
            "phone",
            "和{who}电话沟通了十几分钟，对方关心{concern}，已解释清楚，答应{when}安排上门演示。",
            "上门演示",
        ),
        ("phone", "{who}在外地出差，电话里简单聊了几句，约{when}回来后再细谈。", "再约时间"),
        ("wechat", "{who}在朋友圈看到我们的{short}案例，主动问了几个功能问题，已一一回复。", "约演示时间"),
        ("visit", "顺路拜访{who}，当面演示了{feature}，对方说回去和{who2}商量一下。", "确认对方内部意见"),
    ],
    ("enter", Stage.QUALIFIED): [
        (
            "meeting",
            "和{who}、{who2}开需求沟通会，梳理出三点需求：{need1}、{need2}、{need3}。预计{seats}个账号，希望两个月内上线。",
            "出初步方案",
        ),
        (
            "visit",
            "上门调研{site}的业务流程，和{who}确认了需求范围，预算在{budget}左右，最后由{boss}拍板。",
            "准备方案和报价",
        ),
        (
            "visit",
            "到客户现场演示{product}，{who}提了不少问题，主要关心{concern}和{concern2}，需求基本明确。",
            "出方案",
        ),
    ],
    ("ongoing", Stage.QUALIFIED): [
        (
            "phone",
            "和{who}电话确认需求细节：要对接他们现在用的{system}，另外要支持手机上审批。",
            "请技术同事评估对接方案",
        ),
        (
            "wechat",
            "{who}微信发来他们现在用的表格模板，已转给实施同事评估工作量，{when}回复。",
            "评估后回复客户",
        ),
        ("visit", "带技术同事到{place}现场交流，解答了{concern}方面的问题，{who}比较满意。", "准备方案"),
        ("email", "发送需求确认单给{who}，请对方核对功能范围和账号数量。", "确认需求单"),
        ("meeting", "和{who2}开线上会，逐条过了需求清单，补充了权限和报表方面的要求。", "更新需求清单"),
        ("phone", "{who}来电问能否先试用一个月，已申请测试账号。", "开通试用账号"),
        (
            "wechat",
            "给{who}发了试用账号和操作手册，对方安排了三个人先试用，{when}回访试用情况。",
            "跟进试用情况",
        ),
    ],
    ("enter", Stage.QUOTED): [
        (
            "email",
            "邮件发送正式方案和报价单：{seats}个账号、实施服务和一年运维，合计{amount}，报价有效期30天。",
            "电话确认报价反馈",
        ),
        (
            "meeting",
            "方案汇报会，向{audience}讲解了方案，会后发送报价{amount}。对方比较关注{concern}。",
            "跟进报价反馈",
        ),
    ],
    ("ongoing", Stage.QUOTED): [
        (
            "phone",
            "电话跟{who}确认报价，对方觉得实施费偏高，希望再优惠一些，已向经理申请特价。",
            "特价审批后回复客户",
        ),
        ("wechat", "{who}说报价已经提交给老板，老板这周在外地出差，{when}给答复。", "等老板答复"),
        (
            "phone",
            "{who}反馈还在和另外两家服务商比较，我们的优势是{strength}，已补充发送对比说明。",
            "跟进比选结果",
        ),
        ("email", "按{who}的要求调整方案，去掉{module}模块，报价调整为{amount2}。", "确认调整后的报价"),
        (
            "wechat",
            "把{short}同行的上线效果数据发给{who}，对方说很有参考价值，会一起报给老板。",
            "跟进决策进度",
        ),
        (
            "visit",
            "到{place}当面向{who}解释报价构成，对方对运维费有疑问，已说明包含的服务内容。",
            "等待对方内部评审",
        ),
        ("phone", "{who}说{when}开内部评审会，需要我们再提供一份成功案例和上线计划。", "准备评审材料"),
    ],
    ("enter", Stage.NEGOTIATING): [
        (
            "meeting",
            "商务谈判：和{who}及财务负责人谈付款方式，对方希望分三期，我们建议首付50%，{when}再定。",
            "准备合同草稿",
        ),
        (
            "visit",
            "到客户公司和{boss}见面，对方基本认可方案，要求价格再让5个点，实施周期压到{weeks}周以内。",
            "申请价格审批",
        ),
    ],
    ("ongoing", Stage.NEGOTIATING): [
        (
            "wechat",
            "{who}微信发来合同修改意见，主要是违约条款和验收标准，已转法务审核，{when}回复。",
            "回复合同修改意见",
        ),
        ("phone", "和{who}核对合同条款，付款方式定为{pay_terms}，发票开增值税专票。", "发送合同终稿"),
        ("email", "发送合同终稿给{who}，请对方走内部盖章流程。", "跟进盖章进度"),
        ("phone", "{who}说合同在走法务审批，财务要求补充我们的资质文件，已当天发过去。", "跟进审批进度"),
        (
            "meeting",
            "和{who}及对方法务线上过合同，剩下付款节点和验收标准两处分歧，{when}再议。",
            "修改合同条款",
        ),
        ("wechat", "{who}说老板已经口头同意，合同在走用印流程，预计这周内能盖章。", "跟进盖章"),
    ],
    "won": [
        ("visit", "合同签订！{who}安排盖章，合同金额{amount}，首付款预计{when}前到账。", "跟进首付款"),
        ("phone", "{who}来电告知合同审批已走完，今天收到盖章合同，金额{amount}。", "安排实施启动"),
    ],
    # After the deal, in this order.
    "after_won": [
        ("phone", "首付款已到账，和{who}约好实施顾问{when}进场。", "实施启动会"),
        ("meeting", "项目启动会，确定了实施计划和双方对接人，客户方由{who}负责。", "按计划推进实施"),
        (
            "visit",
            "上线回访：系统已运行{weeks}周，{who}反馈{feedback}，提出想增加{module}，记为增购机会。",
            "整理增购方案",
        ),
        ("phone", "例行回访{who}，使用情况正常，尾款已安排付款。", "确认尾款到账"),
        ("wechat", "{who}微信咨询{module}怎么开通，已转售后处理，当天解决。", "季度回访"),
        ("email", "发送季度使用报告给{who}，活跃账号{seats}个，对方很满意。", "季度回访"),
    ],
    "lost": [
        ("phone", "{who}告知最终选了另一家服务商，主要是对方报价低了近两成，本次输单。已表示保持联系。", ""),
        ("wechat", "{who}回复今年预算被砍，项目暂停，短期内不会采购。", ""),
        ("email", "收到{who}的邮件，集团统一采购了别家系统，本项目取消。", ""),
    ],
    # The last word before a customer went quiet.
    "stall": [
        ("phone", "连续两次电话没接，微信留言也没回复。", ""),
        ("wechat", "{who}回复最近在忙{busy}，暂时顾不上，有需要再联系。", ""),
        ("phone", "{who}说项目往后推了，具体时间没定，有需要再联系。", ""),
    ],
    "support": [
        (
            "meeting",
            "远程演示测试环境，给{who2}讲解了数据导入和权限设置，对方IT提了三个问题，已书面回复。",
            "",
        ),
        ("email", "整理并发送《{product}接口说明》和数据迁移方案给对方IT负责人。", ""),
        ("phone", "配合{owner}解答{who2}关于数据迁移和私有化部署的问题。", ""),
    ],
    "manager": [
        (
            "visit",
            "陪同{owner}拜访{top}，高层见面，对方认可我们在{short}行业的案例，价格同意按九折走特批。",
            "",
        ),
        ("meeting", "和{owner}一起参加客户的内部评审会，回答了售后服务和数据安全方面的问题。", ""),
    ],
    "colleague": [
        ("visit", "协助{owner}拜访客户在{other_city}的{unit}，了解当地团队的使用需求。", ""),
        ("phone", "替{owner}跟进，和{who}确认了培训时间和参训人数。", ""),
    ],
}
# Minutes of the day, local time, when each channel is used.
HOURS = {
    "phone": (9 * 60, 18 * 60),
    "wechat": (9 * 60, 21 * 60 + 30),
    "visit": (9 * 60 + 30, 16 * 60 + 30),
    "email": (8 * 60 + 45, 18 * 60 + 30),
    "meeting": (9 * 60 + 30, 17 * 60),
}

NOTES = (
    "决策人是{boss}，采购要走三家比价。",
    "IT只有一个人，上线时需要我们多支持。",
    "付款周期较长，一般60天，合同里要写清楚。",
    "之前用过别家的系统，实施不到位，对售后很敏感。",
    "共有三个{unit}，先从{place}这边试点。",
    "每年年初定预算，年中追加比较难。",
    "{who}很务实，沟通直接，不喜欢绕弯子。",
)
LEAD_NOTES = {
    "website": (
        "官网在线留言：想了解{product}，大概{seats}个人用，希望先发报价。",
        "官网咨询{product}的价格，说下个月要换系统，请尽快联系。",
    ),
    "exhibition": (
        "展会上收的名片，对{feature}感兴趣，还没联系。",
        "展会扫码登记，留言想看看{short}同行的案例。",
    ),
}
PERSON_NOTES = (
    "自己开了两家店，想先试用再决定。",
    "老客户介绍的个体老板，比较看重价格。",
)

ASSIGN_NOTES = {
    "website": ("官网线索，按区域分配", "官网留言客户，{name}就近跟进"),
    "exhibition": ("展会线索，分给{name}跟进", "展会名片，按区域分配"),
    "new_hire": ("{name}刚入职，先分几个新线索练手",),
}
CLAIM_NOTES = ("公海里看到的，行业对口，领取跟进", "客户官网再次留言，领取跟进")
RELEASE_NOTES = ("已输单，释放到公海", "客户选了别家，释放到公海")
REQUEST_MESSAGES = (
    "客户在我负责的区域有{unit}，我可以就近支持。",
    "我之前跟对方{who}打过交道，想一起跟进。",
    "客户的老板是我一个老客户的朋友，可以帮忙推动。",
)
# Public holidays with fixed dates (month, first day, last day) and the first day of the
# Spring Festival (春节), when hardly anyone works for a week.
HOLIDAYS = [(1, 1, 1), (5, 1, 5), (10, 1, 7)]
SPRING_FESTIVALS = [
    date(2025, 1, 29),
    date(2026, 2, 17),
    date(2027, 2, 6),
    date(2028, 1, 26),
    date(2029, 2, 13),
]
TOP_TITLES = ("董事长", "总经理", "院长", "校长")


# ---- the plan -------------------------------------------------------------------------


@dataclass
class Person:
    surname: str
    surname_pinyin: str
    given: str
    female: bool
    title: str = ""
    phones: list = field(default_factory=list)
    email: str = ""
    wechat: str = ""

    @property
    def name(self):
        return self.surname + self.given

    @property
    def honorific(self):
        """How a salesperson refers to them: 王总, 李经理, 张主任, 刘婷 …"""
        title = self.title
        if any(word in title for word in ("总经理", "董事长", "总监", "总工")) and "助理" not in title:
            return self.surname + "总"
        if "个体" in title:
            return self.surname + "老板"
        for word in ("院长", "校长", "厂长", "店长", "主任"):
            if word in title:
                return self.surname + word
        if "经理" in title and "助理" not in title:
            return self.surname + "经理"
        if "主管" in title:
            return self.surname + "主管"
        if title:
            return self.name
        return self.surname + ("女士" if self.female else "先生")


@dataclass
class Event:
    at: datetime
    seq: int
    kind: str
    args: tuple


@dataclass
class Story:
    """One customer from its creation on."""

    team: "Staff"
    data: CustomerInput
    people: list
    sector: Sector
    place: str
    seats: int
    events: list = field(default_factory=list)
    owner: User | None = None
    # The owner's follow-ups (local day, moment, phase), for colleagues joining in between.
    owner_follow_ups: list = field(default_factory=list)
    stage: str = Stage.LEAD  # as the plan has got so far
    system: str = ""  # what they use today (金蝶, 用友 …)
    used: set = field(default_factory=set)  # templates already used for this customer
    customer_id: int | None = None
    # Held so the session's identity map (weak references) keeps it between services.
    customer: Customer | None = None
    failed: bool = False


@dataclass
class Staff:
    name: str
    timezone: ZoneInfo
    manager: User
    support: User
    reps: list
    joined: dict  # user id -> local date


class Planner:
    """Makes up the demo ledger as stories of events (create, follow-up, stage change,
    owner change, collaboration) at the moments they happened. Pure Python: nothing is
    written until seed() plays the events back through the services."""

    def __init__(self, staff, now, similarity):
        self.rng = random.Random(SEED)
        self.staff = staff
        self.now = now
        self.similarity = similarity * 100
        self.name_keys = []
        self.phones = set()
        self.emails = set()
        self.codes = set()
        self.stories = []
        self.seq = 0

    # ---- helpers ----

    def pick(self, weighted):
        items, weights = zip(*weighted, strict=True)
        return self.rng.choices(items, weights=weights)[0]

    def today(self, team):
        return self.now.astimezone(team.timezone).date()

    def last_day(self, team):
        """The last day events may fall on: today once the working day is well under way."""
        local = self.now.astimezone(team.timezone)
        return local.date() if local.hour >= 12 else local.date() - timedelta(days=1)

    def moment(self, team, day, channel="phone"):
        start, end = HOURS[channel]
        if day == self.today(team):
            local = self.now.astimezone(team.timezone)
            end = min(end, local.hour * 60 + local.minute - 180)
            start = min(start, end)
        minute = self.rng.randint(start, end)
        return datetime.combine(day, time(minute // 60, minute % 60), tzinfo=team.timezone)

    def workday(self, day, low, high):
        """Most work happens on working days: move a weekend or holiday to the nearest
        working day strictly between low and high (now and then someone works a Saturday)."""
        if not _day_off(day) or (day.weekday() == 5 and not _holiday(day) and self.rng.random() < 0.1):
            return day
        for distance in range(1, 11):
            for candidate in (day - timedelta(days=distance), day + timedelta(days=distance)):
                if low < candidate < high and not _day_off(candidate):
                    return candidate
        return day

    def days(self, first, last, at_least=1):
        """Follow-up days from first to last, both included, never more than MAX_GAP apart."""
        if first < last:
            first = self.workday(first, first - timedelta(days=1), min(last, first + timedelta(days=10)))
        days = [first]
        while (last - days[-1]).days > MAX_GAP:
            step = self.rng.randint(3, MAX_GAP - 2)
            day = days[-1] + timedelta(days=step)
            days.append(self.workday(day, days[-1], min(last, days[-1] + timedelta(days=MAX_GAP + 1))))
        if last > days[-1]:
            days.append(last)
        while len(days) < at_least:
            gaps = [i for i in range(len(days) - 1) if (days[i + 1] - days[i]).days >= 2]
            if not gaps:
                break
            i = self.rng.choice(gaps)
            day = days[i] + timedelta(days=self.rng.randint(1, (days[i + 1] - days[i]).days - 1))
            days.insert(i + 1, self.workday(day, days[i], days[i + 1]))
        return days

    def tenure(self, team, user):
        return (self.today(team) - team.joined[user.id]).days

    def add(self, story, at, kind, *args):
        self.seq += 1
        story.events.append(Event(at, self.seq, kind, args))

    # ---- who the customer is ----

    def region(self, team):
        territory = TERRITORIES[team.name]
        province = self.pick([(name, weight) for name, (weight, _cities) in territory.items()])
        return province, self.rng.choice(territory[province][1])

    def sector(self):
        return self.pick([(name, sector.weight) for name, sector in SECTORS.items()])

    def brand(self, province, city):
        roll = self.rng.random()
        if roll < 0.08 and city in CITY_MARKS:
            mark = CITY_MARKS[city]
        elif roll < 0.22:
            mark = REGION_MARKS[province]
        else:
            return self.rng.choice(BRANDS)
        second = self.rng.choice([pair for pair in MARK_SECONDS if mark[0] + pair[0] not in AWKWARD_BRANDS])
        return mark[0] + second[0], mark[1] + second[1]

    def company(self, team, sector_name, grade):
        """(name, province, city, domain, is_school): distinct from every other name."""
        sector = SECTORS[sector_name]
        for _attempt in range(200):
            province, city = self.region(team)
            word = self.rng.choice([w for w in sector.words if grade != "A" or w not in SMALL_WORDS])
            brand, brand_pinyin = self.brand(province, city)
            prefix = province if province in MUNICIPALITIES else city
            school = word in SCHOOL_WORDS
            roll = self.rng.random()
            if school:
                name = f"{prefix}市{brand}{word}" if roll < 0.5 else f"{prefix}{brand}{word}"
            elif grade == "A" and roll < 0.35:
                form = "集团有限公司" if self.rng.random() < 0.5 else "股份有限公司"
                name = f"{province}{brand}{word}{form}"
            elif roll < 0.55:
                name = f"{prefix}{brand}{word}有限公司"
            elif roll < 0.68:
                name = f"{prefix}市{brand}{word}有限公司"
            elif roll < 0.8:
                name = f"{brand}{word}（{prefix}）有限公司"
            elif roll < 0.9:
                name = f"{prefix}{brand}{word}有限责任公司"
            else:
                name = f"{province}{brand}{word}股份有限公司"
            key = keys.company_key(name)
            if key in self.name_keys or process.extractOne(
                key, self.name_keys, scorer=fuzz.ratio, score_cutoff=self.similarity
            ):
                continue
            self.name_keys.append(key)
            initials = "".join(search.pinyin(word, initials=True))[:2]
            tld = self.pick([("com", 6), ("cn", 2), ("com.cn", 2)])
            domain = (
                f"{brand_pinyin}{initials}.{tld}"
                if self.rng.random() < 0.7
                else f"{brand_pinyin}-{initials}.com"
            )
            return name, province, city, domain, school
        raise RuntimeError("ran out of company names")

    def credit_code(self, city, school):
        """A well-formed 统一社会信用代码: registering authority, division, organisation code
        (GB 11714, with its own check character) and the GB 32100 check character."""
        letters = "0123456789ABCDEFGHJKLMNPQRTUWXY"
        while True:
            if self.rng.random() < 0.55:  # newer registrations: MA…
                body = (
                    "MA" + self.rng.choice("123456789") + "".join(self.rng.choice(letters) for _ in range(5))
                )
            else:
                body = "".join(self.rng.choice("0123456789") for _ in range(8))
            values = [int(ch) if ch.isdigit() else ord(ch) - 55 for ch in body]
            check = 11 - sum(v * w for v, w in zip(values, (3, 7, 9, 10, 5, 8, 4, 2), strict=True)) % 11
            organisation = body + {10: "X", 11: "0"}.get(check, str(check))
            first17 = ("52" if school else "91") + CITY_CODES[city][1] + organisation
            code = first17 + keys.credit_code_check_char(first17)
            if code not in self.codes:
                self.codes.add(code)
                return code

    def mobile(self):
        while True:
            number = self.rng.choice(MOBILE_PREFIXES) + f"{self.rng.randrange(10**8):08d}"
            if number not in self.phones:
                self.phones.add(number)
                if self.rng.random() < 0.2:
                    return f"{number[:3]} {number[3:7]} {number[7:]}"
                return number

    def landline(self, city):
        area = CITY_CODES[city][0]
        while True:
            # Big cities' numbers start with 5 or 6 (021-5xxxxxxx); elsewhere anything from 2 to 8.
            first = self.rng.choice("56" if len(area) == 3 else "2345678")
            local = first + f"{self.rng.randrange(10**7):07d}"
            if area + local not in self.phones:
                self.phones.add(area + local)
                return f"{area}-{local}"

    def unique_email(self, local, domain):
        email, n = f"{local}@{domain}", 1
        while email in self.emails:
            n += 1
            email = f"{local}{n}@{domain}"
        self.emails.add(email)
        return email

    def person(self, team, title=""):
        regional = REGIONAL_SURNAMES[team.name].split()
        surnames = [
            (pair, (len(SURNAMES) - i) + (40 if pair[0] in regional else 0))
            for i, pair in enumerate(SURNAMES)
        ]
        surname, surname_pinyin = self.pick(surnames)
        female = self.rng.random() < 0.4
        given = self.rng.choice(FEMALE_NAMES if female else MALE_NAMES)
        return Person(surname, surname_pinyin, given, female, title)

    def reach(self, person, city, domain, first):
        """Phones, e-mail and WeChat of a contact."""
        given = search.pinyin(person.given)
        full = person.surname_pinyin + "".join(given)
        short = person.surname_pinyin + "".join(part[0] for part in given)
        mobile = self.mobile() if first or self.rng.random() < 0.85 else None
        if mobile:
            person.phones.append(mobile)
        if domain and (not mobile or (first and self.rng.random() < 0.35)):
            person.phones.append(self.landline(city))
        if self.rng.random() < (0.65 if first else 0.5):
            if domain and self.rng.random() < 0.75:
                local = self.rng.choice([full, short, f"{''.join(given)}.{person.surname_pinyin}"])
                person.email = self.unique_email(local, domain)
            elif self.rng.random() < 0.5:
                person.email = self.unique_email(str(self.rng.randint(10**7, 3 * 10**9)), "qq.com")
            else:
                local = f"{short}{self.rng.choice(['', '88', '2008', str(self.rng.randint(70, 99))])}"
                person.email = self.unique_email(local, self.rng.choice(["163.com", "126.com"]))
        roll = self.rng.random()
        if roll < 0.3:
            alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
            person.wechat = "wxid_" + "".join(self.rng.choice(alphabet) for _ in range(14))
        elif roll < 0.45 and mobile:
            person.wechat = mobile.replace(" ", "")
        elif roll < 0.75:
            person.wechat = self.rng.choice(
                [f"{short}{self.rng.randint(1970, 1999)}", f"{''.join(given)}_{person.surname_pinyin}", full]
            )

    def contacts(self, team, sector, city, domain, grade, hospital):
        count = self.pick([(1, 40), (2, 40), (3, 20)]) if grade != "D" else self.pick([(1, 70), (2, 30)])
        people, titles, names = [], set(), set()
        for i in range(count):
            choices = FIRST_TITLES if i == 0 else OTHER_TITLES
            if hospital:
                choices = HOSPITAL_TITLES + (OTHER_TITLES if i else [])
            choices = choices + [(title, 8) for title in sector.titles if not hospital]
            title = self.pick([(t, w) for t, w in choices if t not in titles])
            titles.add(title)
            person = self.person(team, title)
            while person.given in names or person.surname + person.given in names:
                person = self.person(team, title)
            names.update([person.given, person.name])
            self.reach(person, city, domain, first=i == 0)
            people.append(person)
        return people

    def amount(self, grade):
        low, high = AMOUNTS[grade]
        value = self.rng.uniform(low, high)
        step = 10_000 if value >= 500_000 else 1_000 if value >= 50_000 else 100
        value = round(value / step) * step
        if self.rng.random() < 0.3:  # prices like 128,000 and 39,800
            value = value // (step * 10) * step * 10 + 8 * step
        return Decimal(value).quantize(Decimal("0.01"))

    def tags(self, sector_name, grade, stage, source, name):
        tags = []
        if grade == "A" and self.rng.random() < 0.8:
            tags.append("重点客户")
        if "集团" in name:
            tags.append("集团客户")
        if sector_name in ("建筑工程", "医疗健康", "教育培训") and self.rng.random() < 0.3:
            tags += ["政府项目", "招投标"]
        if stage == Stage.WON:
            tags += self.rng.sample(["老客户", "年框", "可转介绍"], self.rng.randint(1, 2))
        if stage in (Stage.QUOTED, Stage.NEGOTIATING) and self.rng.random() < 0.25:
            tags.append("预算已批")
        if stage in (Stage.QUALIFIED, Stage.QUOTED) and self.rng.random() < 0.2:
            tags.append("试用中")
        if source == "referral" and self.rng.random() < 0.5:
            tags.append("转介绍")
        for tag, chance in (("价格敏感", 0.1), ("竞品在用", 0.08), ("决策链长", 0.08), ("需上门", 0.06)):
            if self.rng.random() < chance:
                tags.append(tag)
        return list(dict.fromkeys(tags))[:4]

    def new_story(self, team, stage, *, grade=None, source=None, person=False, lead_note=None):
        sector_name = self.sector()
        sector = SECTORS[sector_name]
        grade = grade or self.pick(zip("ABCD", GRADE_WEIGHTS[stage], strict=True))
        source = source or self.pick(SOURCES)
        if person:
            province, city = self.region(team)
            owner = self.person(team, "个体经营")
            self.reach(owner, city, None, first=True)
            people, name, school = [owner], owner.name, False
            sector_name = self.rng.choice(["餐饮酒店", "批发零售", "汽车"])
            sector, grade = SECTORS[sector_name], self.rng.choice("CD")
        else:
            name, province, city, domain, school = self.company(team, sector_name, grade)
            hospital = "医院" in name
            people = self.contacts(team, sector, city, domain, grade, hospital)
        place = province if province in MUNICIPALITIES else city
        seats = self.rng.randint(2, 6) if person else self.rng.randint(*SEATS[grade])
        data = CustomerInput(
            name=name,
            kind="person" if person else "company",
            credit_code=self.credit_code(city, school) if not person and self.rng.random() < 0.4 else "",
            industry=sector_name,
            province=province,
            city=city,
            source=source,
            grade=grade,
            stage=Stage.LEAD,
            expected_amount=self.amount(grade)
            if stage != Stage.LEAD or self.rng.random() < 0.5
            else Decimal("0.00"),
            contacts=[
                ContactInput(
                    name=p.name, title=p.title, phones=list(p.phones), email=p.email, wechat=p.wechat
                )
                for p in people
            ],
        )
        data.tags = self.tags(sector_name, grade, stage, source, name)
        story = Story(team, data, people, sector, place, seats, system=self.rng.choice(SYSTEMS))
        if lead_note:
            data.notes = self.fill(self.rng.choice(LEAD_NOTES[lead_note]), story)
        elif person:
            data.notes = self.rng.choice(PERSON_NOTES)
        elif self.rng.random() < 0.3:
            data.notes = self.fill(self.rng.choice(NOTES), story)
        self.stories.append(story)
        return story

    # ---- what was said ----

    def fill(self, text, story, day=None, next_day=None):
        people = story.people
        top = next((p for title in TOP_TITLES for p in people if p.title == title), None)
        if top is None:
            boss, audience, top_name = "老板", f"{people[0].honorific}和老板", "对方老板"
        elif top is people[0]:
            boss, audience, top_name = top.honorific, f"{top.honorific}及管理层", top.honorific
        else:
            boss = top_name = top.honorific
            audience = f"{people[0].honorific}和{top.honorific}"
        amount = Decimal(story.data.expected_amount) or self.amount(story.data.grade)
        needs = self.rng.sample(story.sector.needs, 3)
        concerns = self.rng.sample(CONCERNS, 2)
        territory = TERRITORIES[story.team.name]
        others = [
            f"{province}{city}" if province in MUNICIPALITIES else city
            for province, (_w, cities) in territory.items()
            for city in cities
            if city != story.data.city
        ]
        values = {
            "who": people[0].honorific,
            "who2": people[1].honorific
            if len(people) > 1
            else ("合伙人" if story.data.kind == "person" else "IT负责人"),
            "boss": boss,
            "audience": audience,
            "top": top_name,
            "product": story.sector.product,
            "short": story.sector.short,
            "site": story.sector.site,
            "objects": story.sector.objects,
            "pain": story.sector.pain,
            "unit": story.sector.unit,
            "feature": self.rng.choice(story.sector.features),
            "need1": needs[0],
            "need2": needs[1],
            "need3": needs[2],
            "module": self.rng.choice(story.sector.modules),
            "place": story.place,
            "other_city": self.rng.choice(others),
            "seats": story.seats,
            "amount": _wan(amount),
            "amount2": _wan(_round(amount * Decimal("0.85"), 1000)),
            "budget": _wan(max(_round(amount * Decimal("0.9"), 10_000), Decimal(10_000))),
            "concern": concerns[0],
            "concern2": concerns[1],
            "busy": self.rng.choice(BUSY),
            "strength": self.rng.choice(STRENGTHS),
            "weeks": self.rng.randint(4, 10),
            "pay_terms": self.rng.choice(PAY_TERMS),
            "system": story.system,
            "feedback": self.rng.choice(FEEDBACK),
            "owner": story.owner.display_name if story.owner else "",
            "when": _when(day, next_day) if next_day else "",
        }
        return text.format(**values)

    def template(self, story, phase, day, next_day, index=None):
        choices = TEMPLATES[phase]
        if index is not None and index < 3:
            return choices[index]
        if index is not None:
            choices = choices[3:]
        source = story.data.source
        usable = [t for t in choices if len(t) < 4 or source in t[3]] or choices
        if next_day is None or _day_off(next_day):  # nobody plans a call "下周日"
            usable = [t for t in usable if "{when}" not in t[1]] or usable
        if _day_off(day):  # a call or a WeChat message, not a visit
            usable = [t for t in usable if t[0] in ("phone", "wechat")] or usable
        if story.people[0].title in TOP_TITLES or story.data.kind == "person":
            usable = [t for t in usable if "老板" not in t[1]] or usable
        fresh = [t for t in usable if t[1] not in story.used] or usable
        template = self.rng.choice(fresh)
        story.used.add(template[1])
        return template

    def follow_up(self, story, author, day, phase, next_day=None, *, after=None, index=None):
        channel, content, next_step = self.template(story, phase, day, next_day, index)[:3]
        at = self.moment(story.team, day, channel)
        if after is not None and at <= after:
            at = after + timedelta(minutes=self.rng.randint(15, 120))
        self.add(
            story,
            at,
            "follow_up",
            author,
            channel,
            self.fill(content, story, day, next_day),
            self.fill(next_step, story) if next_day else "",
            next_day,
        )
        if author is story.owner:
            story.owner_follow_ups.append((day, at, phase))
        return at

    # ---- how it went ----

    def phases(self, count, path):
        """One phase per follow-up: maybe a failed attempt first, then each stage of
        `path` entered in turn (with follow-ups in between)."""
        path = list(path)
        while len(path) > count:
            del path[1 if len(path) > 2 else 0]
        if not path:
            return ["attempt"] * count
        attempts = 1 if count > len(path) + 1 and self.rng.random() < 0.3 else 0
        rest = count - attempts
        cuts = sorted(self.rng.sample(range(1, rest), len(path) - 1)) if len(path) > 1 else []
        phases = ["attempt"] * attempts
        for start, end, stage in zip([0, *cuts], [*cuts, rest], path, strict=True):
            phases += [("enter", stage)] + [("ongoing", stage)] * (end - start - 1)
        return phases

    def work(self, story, days, phases, final_next, *, after=None):
        """The owner's follow-ups on `days`, moving the stage as the phases enter one."""
        for i, (day, phase) in enumerate(zip(days, phases, strict=True)):
            if i + 1 < len(days):
                next_day = days[i + 1]
                if self.rng.random() < 0.2 and (next_day - day).days >= 3:
                    next_day -= timedelta(days=self.rng.randint(1, 2))  # a little late
            else:
                next_day = final_next
            at = self.follow_up(story, story.owner, day, phase, next_day, after=after)
            after = None
            target = phase[1] if isinstance(phase, tuple) and phase[0] == "enter" else None
            target = {"won": Stage.WON, "lost": Stage.LOST}.get(phase, target)
            if target and target != story.stage:
                self.add(story, at + timedelta(minutes=self.rng.randint(3, 20)), "stage", story.owner, target)
                story.stage = target

    def final_next(self, team, days_ago):
        """The next date the last follow-up planned (`days_ago` days ago): due today,
        overdue, or coming up."""
        today = self.today(team)
        bucket = self.pick([("due", 12), ("overdue", 14), ("future", 74)])
        if bucket == "due" and days_ago >= 1:
            return today
        if bucket == "overdue" and days_ago >= 2:
            day = today - timedelta(days=self.rng.randint(1, days_ago - 1))
            return self.workday(day, today - timedelta(days=days_ago), today)
        day = today + timedelta(days=self.rng.randint(1, 9))
        return self.workday(day, today, today + timedelta(days=14))

    def recent_day(self, team, low, high):
        """A working day low..high days before the last usable day (if there is one)."""
        last = self.last_day(team)
        day = last - timedelta(days=self.rng.randint(low, high))
        return self.workday(day, last - timedelta(days=high + 1), last - timedelta(days=low - 1))

    def earlier_workday(self, day, not_before):
        """`day`, or the working day before it (not before `not_before`)."""
        return self.workday(
            day, max(day - timedelta(days=11), not_before - timedelta(days=1)), day + timedelta(days=1)
        )

    def open_story(self, team, stage, owner, *, person=False, grade=None):
        """A customer its owner is still working on."""
        today, last = self.today(team), self.last_day(team)
        story = self.new_story(team, stage, person=person, grade=grade)
        story.owner = owner
        oldest = self.tenure(team, owner) - 1  # nothing before the owner joined
        if stage == Stage.LEAD:
            count = self.rng.choice([0, 0, 1, 1, 2])
            if count == 0:
                created = self.recent_day(team, 0, min(8, oldest))
                story.data.next_follow_up_on = self.final_next(team, (today - created).days)
                self.add(story, self.moment(team, created), "create", owner, owner)
                return story
            days = [self.recent_day(team, 0, min(10, oldest))]
            if count == 2:
                days.insert(0, days[0] - timedelta(days=self.rng.randint(2, 6)))
            created = max(days[0] - timedelta(days=self.rng.randint(0, 2)), today - timedelta(days=oldest))
            # Nothing before the customer existed (the rep may have joined days ago).
            days = sorted({max(day, created) for day in days})
            at = self.moment(team, created)
            self.add(story, at, "create", owner, owner)
            self.work(
                story, days, ["attempt"] * len(days), self.final_next(team, (today - days[-1]).days), after=at
            )
            return story
        low, high = OPEN_AGES[stage]
        created = min(today - timedelta(days=self.rng.randint(low, max(low, min(high, oldest)))), last)
        created = self.earlier_workday(created, team.joined[owner.id])
        at = self.moment(team, created)
        self.add(story, at, "create", owner, owner)
        self.continue_open(story, created, stage, after=at, fresh=True)
        return story

    def continue_open(self, story, start, stage, *, after=None, fresh=False):
        """The owner's follow-ups from `start` until recently, reaching `stage`; the last
        one plans the next follow-up (due today, overdue or coming up)."""
        team, rng = story.team, self.rng
        last = self.last_day(team)
        last_followed = self.recent_day(team, 0, min(10, (last - start).days))
        first = min(start + timedelta(days=rng.randint(0, 3)), last_followed)
        path = PATH[: PATH.index(stage) + 1]
        if len(path) > 2 and rng.random() < 0.1:
            path.remove(Stage.QUALIFIED)  # reps skip a stage now and then
        days = self.days(first, last_followed, at_least=len(path) + rng.randint(0, 2))
        phases = self.phases(len(days), path)
        final = self.final_next(team, (self.today(team) - days[-1]).days)
        if fresh and first == start and phases[0] == ("enter", Stage.CONTACTED) and rng.random() < 0.25:
            story.data.stage = story.stage = Stage.CONTACTED  # entered after a first conversation
        self.work(story, days, phases, final, after=after)

    def won_story(self, team, owner):
        today, last = self.today(team), self.last_day(team)
        story = self.new_story(team, Stage.WON, grade="A" if owner is team.manager else None)
        story.owner = owner
        age = self.rng.randint(45, max(46, min(HISTORY_DAYS, self.tenure(team, owner) - 1)))
        created = self.earlier_workday(today - timedelta(days=age), team.joined[owner.id])
        won = min(created + timedelta(days=self.rng.randint(20, min(85, age - 10))), last - timedelta(days=3))
        won = self.earlier_workday(won, created + timedelta(days=10))
        at = self.moment(team, created)
        self.add(story, at, "create", owner, owner)
        path = list(PATH)
        if self.rng.random() < 0.15:
            path.remove(Stage.QUALIFIED)
        days = self.days(created + timedelta(days=self.rng.randint(0, 3)), won, at_least=len(path) + 2)
        # After the deal: payment, kick-off, go-live, regular calls.
        after, day = [], won
        while True:
            day = day + timedelta(
                days=self.rng.randint(7, 30) if len(after) < 3 else self.rng.randint(20, 45)
            )
            day = self.workday(day, won, last)
            if day > last - timedelta(days=1):
                break
            after.append(day)
        phases = self.phases(len(days) - 1, path) + ["won"]
        self.work(
            story, days, phases, after[0] if after else self.final_next(team, (today - won).days), after=at
        )
        for i, day in enumerate(after):
            if i + 1 < len(after):
                next_day = after[i + 1]
            else:
                next_day = self.pick([(None, 5), (today + timedelta(days=self.rng.randint(5, 40)), 5)])
            self.follow_up(story, owner, day, "after_won", next_day, index=i)
        return story

    def lost_story(self, team, owner, lost_day, release):
        """A deal that got away on `lost_day`; released to the pool afterwards, or not yet."""
        story = self.new_story(team, Stage.LOST)
        story.owner = owner
        lost_day = self.earlier_workday(lost_day, lost_day - timedelta(days=4))
        room = HISTORY_DAYS - (self.today(team) - lost_day).days
        created = lost_day - timedelta(days=self.rng.randint(20, max(20, min(70, room))))
        created = self.earlier_workday(created, team.joined[owner.id])
        at = self.moment(team, created)
        self.add(story, at, "create", owner, owner)
        reached = self.pick([(Stage.QUALIFIED, 3), (Stage.QUOTED, 4), (Stage.NEGOTIATING, 2)])
        path = PATH[: PATH.index(reached) + 1]
        days = self.days(created + timedelta(days=self.rng.randint(0, 3)), lost_day, at_least=len(path) + 1)
        phases = self.phases(len(days) - 1, path) + ["lost"]
        self.work(story, days, phases, None, after=at)
        if release:
            day = self.workday(lost_day + timedelta(days=self.rng.randint(0, 2)), lost_day, self.today(team))
            lost_at = max(event.at for event in story.events)
            at = max(self.moment(team, day), lost_at + timedelta(minutes=self.rng.randint(20, 90)))
            self.add(story, at, "owner", None, "release", owner, self.rng.choice(RELEASE_NOTES))
        return story

    def quiet_story(self, team, owner, created, reason):
        """Worked for a while, then nothing: the rules put it back in the pool."""
        story = self.new_story(team, Stage.CONTACTED if reason == "reclaim_no_follow_up" else Stage.QUALIFIED)
        story.owner = owner
        created = self.earlier_workday(created, team.joined[owner.id])
        at = self.moment(team, created)
        self.add(story, at, "create", owner, owner)
        if reason == "reclaim_no_follow_up":
            count = self.rng.randint(1, 3)
            end = self.earlier_workday(created + timedelta(days=self.rng.randint(count, 12)), created)
            days = self.days(created, end, count)
            path = [Stage.CONTACTED] if count > 1 else []
            reclaimed = days[-1] + timedelta(days=RECLAIM_AFTER)
        else:
            reached = self.pick([(Stage.QUALIFIED, 1), (Stage.QUOTED, 1)])
            path = PATH[: PATH.index(reached) + 1]
            end = self.earlier_workday(
                created + timedelta(days=RECLAIM_NO_DEAL - self.rng.randint(2, 8)), created
            )
            days = self.days(created + timedelta(days=self.rng.randint(0, 3)), end, at_least=len(path) + 2)
            reclaimed = created + timedelta(days=RECLAIM_NO_DEAL)
        phases = self.phases(len(days) - 1, path) + ["stall"]
        self.work(story, days, phases, None, after=at)
        moment = datetime.combine(reclaimed, time(8, self.rng.randint(30, 59)), tzinfo=team.timezone)
        self.add(story, moment, "owner", None, reason, None, "")
        return story, reclaimed

    # ---- a team's ledger ----

    def plan_team(self, team):
        rng = self.rng
        today, last = self.today(team), self.last_day(team)
        reps, manager, support = team.reps, team.manager, team.support
        veterans, newest = reps[:-1], reps[-1]
        weights = [(rep, w) for rep, w in zip(veterans, (13, 11, 9), strict=False)]

        stages = [stage for stage, n in OPEN_COUNTS.items() for _ in range(n)]
        rng.shuffle(stages)

        def take(allowed):
            for i, stage in enumerate(stages):
                if stage in allowed:
                    return stages.pop(i)
            return stages.pop()

        # A manager's own key accounts.
        for _ in range(2):
            self.open_story(team, take([Stage.QUOTED, Stage.NEGOTIATING]), manager, grade="A")
        # Leads that came in through the website or a trade fair, assigned by the manager;
        # the newest rep gets most of them.
        for assignee in [newest, newest, newest, veterans[-1]]:
            stage = take([Stage.LEAD, Stage.CONTACTED])
            source = rng.choice(["website", "exhibition"])
            creator = support if source == "website" else manager
            story = self.new_story(team, stage, source=source, lead_note=source)
            story.owner = assignee
            span = max(1, min(self.tenure(team, assignee) - 1, 20))
            assigned = last - timedelta(days=rng.randint(0 if stage == Stage.LEAD else 3, span))
            assigned = self.earlier_workday(assigned, team.joined[assignee.id])
            created = self.earlier_workday(
                assigned - timedelta(days=rng.randint(1, 6)), assigned - timedelta(days=9)
            )
            self.add(story, self.moment(team, created), "create", creator, None)
            notes = ASSIGN_NOTES["new_hire" if assignee is newest and rng.random() < 0.5 else source]
            note = rng.choice(notes).format(name=assignee.display_name)
            at = self.moment(team, assigned, "email").replace(hour=9) + timedelta(minutes=rng.randint(0, 50))
            self.add(story, at, "owner", assignee, "assign", manager, note)
            if stage == Stage.CONTACTED and assigned < last:
                self.continue_open(story, assigned + timedelta(days=1), stage)
            elif rng.random() < 0.6 and assigned < last:
                day = assigned + timedelta(days=rng.randint(1, (last - assigned).days))
                self.follow_up(
                    story, assignee, day, "attempt", day + timedelta(days=rng.randint(1, 3)), after=at
                )
        # One that went quiet, was reclaimed, and another rep claimed later.
        former, claimer = rng.sample(veterans, 2)
        story, reclaimed = self.quiet_story(
            team, former, today - timedelta(days=rng.randint(55, 75)), "reclaim_no_follow_up"
        )
        claimed = min(reclaimed + timedelta(days=rng.randint(2, 12)), last - timedelta(days=2))
        story.owner, story.owner_follow_ups = claimer, []
        at = self.moment(team, claimed)
        self.add(story, at, "owner", claimer, "claim", claimer, rng.choice(CLAIM_NOTES))
        self.continue_open(story, claimed, take([Stage.CONTACTED, Stage.QUALIFIED]), after=at)
        # Individuals (个体户) among the small customers.
        for _ in range(2):
            self.open_story(team, take([Stage.LEAD, Stage.CONTACTED]), self.pick(weights), person=True)
        # The newest rep found two leads herself.
        for _ in range(2):
            self.open_story(team, take([Stage.LEAD]), newest)
        while stages:
            stage = stages.pop()
            self.open_story(team, stage, self.pick(weights))

        for _ in range(WON_COUNT - 1):
            self.won_story(team, self.pick(weights))
        self.won_story(team, manager)
        for _ in range(LOST_COUNT):
            self.lost_story(team, self.pick(weights), self.recent_day(team, 1, 12), release=False)

        # The public pool.
        for i in range(POOL_COUNTS["new"]):
            source = "website" if i < 4 else "exhibition"
            story = self.new_story(team, Stage.LEAD, source=source, lead_note=source)
            created = self.recent_day(team, 1, 45)
            self.add(
                story, self.moment(team, created), "create", support if source == "website" else manager, None
            )
        for _ in range(POOL_COUNTS["no_follow_up"]):
            owner = self.pick(weights)
            high = min(HISTORY_DAYS, self.tenure(team, owner) - 1)
            self.quiet_story(
                team, owner, today - timedelta(days=rng.randint(35, high)), "reclaim_no_follow_up"
            )
        for _ in range(POOL_COUNTS["no_deal"]):
            owner = veterans[0]
            self.quiet_story(
                team, owner, today - timedelta(days=rng.randint(100, HISTORY_DAYS)), "reclaim_no_deal"
            )
        for _ in range(POOL_COUNTS["released"]):
            owner = self.pick(weights)
            high = min(HISTORY_DAYS - 25, self.tenure(team, owner) - 75)
            self.lost_story(team, owner, today - timedelta(days=rng.randint(18, max(19, high))), release=True)

    # ---- working together ----

    def collaborations(self):
        rng = self.rng
        by_team = {}
        for story in self.stories:
            by_team.setdefault(story.team.name, []).append(story)
        requests = {"华东大区": 2, "华南大区": 1, "华北大区": 1}
        for team_name, stories in by_team.items():
            team = next(s.team for s in stories)
            held = [
                s
                for s in stories
                if self.owned_at_end(s) and s.owner in team.reps and len(s.owner_follow_ups) >= 3
            ]
            rng.shuffle(held)
            advanced = [s for s in held if s.data.grade in "AB" or self.reached(s, Stage.QUOTED)]
            # Support helps with demos and technical questions on bigger deals.
            for story in advanced[: len(advanced) // 3]:
                self.add_collaborator(story, story.owner, team.support, "support")
            # A colleague on the same team joins some deals.
            for story in held[:3]:
                colleague = self.colleague(story, team)
                if colleague:
                    self.add_collaborator(story, story.owner, colleague, "colleague")
            # Some asked to join and were accepted.
            for story in held[3:5]:
                colleague = self.colleague(story, team)
                if colleague:
                    self.request(story, colleague, answer=True)
            # A couple of requests are still waiting for an answer.
            for i, story in enumerate(held[5 : 5 + requests[team_name]]):
                if i == 0 and team_name == "华东大区":
                    south = next(s.team for s in self.stories if s.team.name == "华南大区")
                    self.request(story, south.reps[1], answer=None)
                else:
                    colleague = self.colleague(story, team)
                    if colleague:
                        self.request(story, colleague, answer=None)
            # Managers join the big ones.
            for story in [s for s in held if s.data.grade == "A"][:3]:
                deal = [i for i, (_d, _a, p) in enumerate(story.owner_follow_ups) if p in DEAL_PHASES]
                if deal:
                    self.extra_follow_up(story, team.manager, "manager", deal[0])

    def owned_at_end(self, story):
        owner_events = [e for e in story.events if e.kind == "owner"]
        return story.owner is not None and not (owner_events and owner_events[-1].args[0] is None)

    def reached(self, story, stage):
        return any(e.kind == "stage" and e.args[1] == stage for e in story.events)

    def colleague(self, story, team):
        start = story.owner_follow_ups[0][0]
        people = [rep for rep in team.reps if rep is not story.owner and team.joined[rep.id] < start]
        return self.rng.choice(people) if people else None

    def add_collaborator(self, story, owner, user, phase):
        follow_ups = story.owner_follow_ups
        if phase == "support":  # support joins once the needs are known
            later = [
                i
                for i, (_d, _a, p) in enumerate(follow_ups)
                if p not in ("attempt", ("enter", Stage.CONTACTED))
            ]
            i = min(later[0] if later else 0, max(0, len(follow_ups) - 3))
        else:
            i = self.rng.randint(1 if len(follow_ups) > 3 else 0, max(0, len(follow_ups) - 3))
        at = follow_ups[i][1]
        self.add(story, at + timedelta(minutes=self.rng.randint(10, 40)), "add", owner, user)
        self.extra_follow_up(story, user, phase, i)

    def request(self, story, user, answer):
        if answer is None:
            day = self.recent_day(story.team, 1, 4)
            at = self.moment(story.team, day)
            first = story.events[0].at
            if at <= first:
                return
        else:
            i = self.rng.randint(0, max(0, len(story.owner_follow_ups) - 3))
            at = story.owner_follow_ups[i][1] + timedelta(hours=1)
        cross_team = user.team_id != story.owner.team_id
        message = self.fill(
            REQUEST_MESSAGES[0] if cross_team else self.rng.choice(REQUEST_MESSAGES[1:]), story
        )
        self.add(story, at, "request", user, message)
        if answer is not None:
            self.add(
                story, at + timedelta(hours=self.rng.randint(2, 20)), "answer", story.owner, user, answer
            )
            self.extra_follow_up(story, user, "colleague", i + 1)

    def extra_follow_up(self, story, author, phase, after_index):
        """A contribution between two of the owner's follow-ups (never the last word);
        managers and support help before the contract is signed."""
        follow_ups = story.owner_follow_ups
        until = len(follow_ups) - 1
        if phase in ("manager", "support"):
            until = next((i for i, (_d, _a, p) in enumerate(follow_ups) if p == "won"), until)
        gaps = [i for i in range(after_index, until) if (follow_ups[i + 1][0] - follow_ups[i][0]).days >= 2]
        if not gaps:
            return
        i = self.rng.choice(gaps[:3])
        low, high = follow_ups[i][0], follow_ups[i + 1][0]
        day = self.workday(low + timedelta(days=self.rng.randint(1, (high - low).days - 1)), low, high)
        self.follow_up(story, author, day, phase, None, after=follow_ups[i][1] + timedelta(hours=3))

    # ---- all of it ----

    def plan(self):
        for team in self.staff:
            self.plan_team(team)
        self.collaborations()
        events = []
        limit = self.now - timedelta(minutes=5)
        for story in self.stories:
            story.events.sort(key=lambda event: (event.at, event.seq))
            previous = None
            for event in story.events:
                if previous is not None and event.at <= previous:
                    event.at = previous + timedelta(minutes=self.rng.randint(2, 9))
                previous = event.at
                if event.at > limit:
                    raise RuntimeError(f"demo event in the future: {event.kind} {event.at}")
                events.append((event, story))
        events.sort(key=lambda pair: (pair[0].at, pair[0].seq))
        return events


def _holiday(day):
    """Fixed public holidays and the Spring Festival week."""
    if any(day.month == m and a <= day.day <= b for m, a, b in HOLIDAYS):
        return True
    return any(-1 <= (day - first).days <= 6 for first in SPRING_FESTIVALS)


def _day_off(day):
    return day.weekday() >= 5 or _holiday(day)


def _round(amount, step):
    return (Decimal(amount) / step).quantize(Decimal(1)) * step


def _wan(amount):
    """128000 -> 12.8万元; 9800 -> 9800元"""
    amount = Decimal(amount)
    if amount < 10_000:
        return f"{int(amount)}元"
    text = f"{amount / 10_000:.2f}".rstrip("0").rstrip(".")
    return f"{text}万元"


def _when(day, next_day):
    """How a salesperson writes a date relative to today: 明天, 本周五, 下周三, 5月12日."""
    delta = (next_day - day).days
    if delta <= 0:
        return "今天"
    if delta == 1:
        return "明天"
    if delta == 2:
        return "后天"
    weeks = (next_day - (day - timedelta(days=day.weekday()))).days // 7
    name = "周" + "一二三四五六日"[next_day.weekday()]
    if weeks == 0:
        return "本" + name
    if weeks == 1:
        return "下" + name
    return f"{next_day.month}月{next_day.day}日"


# ---- seeding ---------------------------------------------------------------------------

TIDY_TABLES = ("customers", "contacts", "contact_phones", "follow_ups", "stage_changes", "ownership_changes")


def _staff():
    """The demo teams as they are in the database, or None when they are not all there."""
    emails = {}
    for staff in TEAMS.values():
        for login, _name in [staff["manager"], staff["support"], *staff["reps"]]:
            emails[f"{login}@{DOMAIN}"] = None
    for user in db.session.scalars(select(User).where(User.email.in_(list(emails)))):
        emails[user.email] = user
    if any(user is None or not user.active for user in emails.values()):
        return None
    teams = []
    for team_name, staff in TEAMS.items():
        user = emails[f"{staff['manager'][0]}@{DOMAIN}"]
        timezone = ZoneInfo(user.timezone)
        reps = [emails[f"{login}@{DOMAIN}"] for login, _name in staff["reps"]]
        members = [user, emails[f"{staff['support'][0]}@{DOMAIN}"], *reps]
        teams.append(
            Staff(
                name=team_name,
                timezone=timezone,
                manager=user,
                support=members[1],
                reps=reps,
                joined={m.id: m.created_at.astimezone(timezone).date() for m in members},
            )
        )
    return teams


def _seeded():
    demo_users = select(User.id).where(User.email.like(f"%@{DOMAIN}"))
    return db.session.scalar(select(Customer.id).where(Customer.created_by_id.in_(demo_users)).limit(1))


def seed():
    if _seeded():
        return
    staff = _staff()
    if staff is None:
        return
    planner = Planner(staff, clock.now(), settings.current().similarity_percent / 100)
    events = planner.plan()
    try:
        with write_transaction():
            for event, story in events:
                if story.failed:
                    continue
                clock.set_now(event.at)
                _apply(story, event.kind, event.args)
                # The services lock a customer with session.refresh(), which drops changes
                # not flushed yet (such as the owner insert_customers sets after its flush).
                db.session.flush()
    finally:
        clock.set_now(None)
    _tidy_up()


def _tidy_up():
    """PostgreSQL: every follow-up rewrote its customer's row, so the table holds ten
    dead versions per customer and no statistics yet; until autovacuum comes by, the
    planner would scan it and recompute every search vector. Clean up now."""
    if db.engine.dialect.name != "postgresql":
        return
    db.session.remove()
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql(f"VACUUM (ANALYZE) {', '.join(TIDY_TABLES)}")


def _apply(story, kind, args):
    if kind == "create":
        actor, owner = args
        try:
            customer = services.create_customer(actor, story.data, owner_id=owner.id if owner else None)
        except DuplicateFound:
            # Someone already has this customer (a ledger that was not empty): leave it out.
            story.failed = True
            return
        story.customer_id, story.customer = customer.id, customer
        return
    customer_id = story.customer_id
    if kind == "follow_up":
        author, channel, content, next_step, next_on = args
        services.log_follow_up(
            author,
            customer_id,
            channel=channel,
            content=content,
            next_step=next_step,
            next_follow_up_on=next_on,
        )
    elif kind == "stage":
        actor, stage = args
        version = db.session.get(Customer, customer_id).version
        services.change_stage(actor, customer_id, stage, version)
    elif kind == "owner":
        new_owner, reason, actor, note = args
        with write_transaction():
            customer = db.session.get(Customer, customer_id)
            services.record_owner_change(customer, new_owner, reason, actor, note=note)
    elif kind == "add":
        actor, user = args
        services.add_collaborator(actor, customer_id, user.id)
    elif kind == "request":
        user, message = args
        services.request_collaboration(user, customer_id, message)
    elif kind == "answer":
        actor, user, approve = args
        services.answer_collaboration(actor, customer_id, user.id, approve)
