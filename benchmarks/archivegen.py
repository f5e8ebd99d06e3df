"""A synthetic two-year AI-news archive for benchmarks/archive_scale.py, deterministic per seed.

What a newsdesk instance following ~500 feeds would have polled over two years: feeds (outlets,
aggregators, Chinese-language sites) and their items, hour by hour, as `Item`s ready for
`Pipeline.prepare` and `Store.save_items`, grouped the way a poll delivers them (one batch per
feed per hourly round).

- Text: headlines and summaries from templates per topic (releases, funding, talent, chips,
  policy, research, products, open source, agents) over a vocabulary of AI-industry entities
  (labs, models, chips, investors, regulators, people) plus ~2,000 made-up start-ups, so that
  names follow a long tail as in real news; about one item in twelve is Chinese. Some outlets'
  items are headline-only, as blog and release feeds often are.
- Time: an even-ish flow that grows over the two years, with a daily and weekly rhythm, plus
  one "hot" week (`hot_week_start`) that carries `hot_share` of all items (50,000 of 1,000,000
  by default), for the digest benchmark.
- Syndication: about one original in five reappears in 1-3 other feeds within two days: as an
  aggregator's link to the same URL with no text (joins by canonical URL), as a wire copy with
  the same text under another URL (joins by content hash), or rewritten (a new headline
  prefix, a dateline, a cut summary: joins by MinHash similarity, when it is similar enough).
  `GeneratedArchive.copies` counts them, so the stories the store built can be checked against
  the stories the generator meant.

Nothing here touches a database: `rounds()` yields plain data and the benchmark stores it.
"""

from __future__ import annotations

import heapq
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from newsdesk.feeds.canonical import content_hash
from newsdesk.models import Item

START = datetime(2024, 11, 25, tzinfo=UTC)  # a Monday
END = START + timedelta(weeks=104)  # 2026-11-23, a Monday: two years of hourly polls
HOT_WEEK = END - timedelta(weeks=8)  # the week that carries `hot_share` of the items
ROUND = timedelta(hours=1)
COPY_OF = "-of-"  # a copy's GUID: "<feed>-<serial>-of-<the original's GUID>"

# --- vocabulary ---------------------------------------------------------------------------------

LABS = [
    ("OpenAI", 12),
    ("Anthropic", 8),
    ("Google DeepMind", 7),
    ("Google", 6),
    ("Meta", 6),
    ("DeepSeek", 7),
    ("Alibaba", 4),
    ("Qwen team", 3),
    ("Moonshot AI", 3),
    ("ByteDance", 4),
    ("xAI", 4),
    ("Mistral", 4),
    ("Microsoft", 5),
    ("Amazon", 4),
    ("Apple", 3),
    ("Nvidia", 7),
    ("AMD", 3),
    ("Intel", 2),
    ("Cohere", 2),
    ("Perplexity", 2),
    ("Zhipu AI", 2),
    ("MiniMax", 2),
    ("Baidu", 2),
    ("Tencent", 2),
    ("Hugging Face", 2),
    ("Stability AI", 1),
    ("Scale AI", 2),
    ("Databricks", 2),
    ("Cerebras", 1),
    ("Groq", 1),
    ("Huawei", 2),
    ("Anysphere", 1),
    ("Figure AI", 1),
    ("StepFun", 1),
    ("Reka", 1),
    ("AI21 Labs", 1),
    ("Character.AI", 1),
    ("Safe Superintelligence", 1),
    ("Thinking Machines Lab", 1),
    ("Samsung", 2),
    ("TSMC", 3),
    ("SK Hynix", 1),
]
MODELS = {
    "OpenAI": ["GPT-5", "GPT-5.1", "GPT-5.5", "o4", "o4-mini", "gpt-oss-120b", "Sora 2", "Codex"],
    "Anthropic": ["Claude Opus 5", "Claude Sonnet 4.5", "Claude Haiku 4.5", "Claude Code"],
    "Google DeepMind": ["Gemini 3 Pro", "Gemini 3.5 Flash", "Gemma 4", "Veo 4", "AlphaFold 4"],
    "Google": ["Gemini 3 Pro", "Gemini 3.5 Flash", "Gemma 4"],
    "Meta": ["Llama 5", "Llama 4 Behemoth", "Llama 5 Scout"],
    "DeepSeek": ["DeepSeek-V4", "DeepSeek-R2", "DeepSeek-V3.2", "DeepSeek-Coder-V3"],
    "Alibaba": ["Qwen3.5", "Qwen3-Coder", "Qwen3-VL", "Qwen3-Max"],
    "Qwen team": ["Qwen3.5", "Qwen3-Coder", "Qwen3-Omni"],
    "Moonshot AI": ["Kimi K2", "Kimi K3", "Kimi-Researcher"],
    "ByteDance": ["Doubao Seed 2", "Seed-Agent", "Seedance 2"],
    "xAI": ["Grok 5", "Grok 4.5", "Grok Code"],
    "Mistral": ["Mistral Large 3", "Magistral", "Devstral 2", "Mistral Medium 4"],
    "Microsoft": ["Phi-5", "MAI-2", "Copilot"],
    "Zhipu AI": ["GLM-5", "GLM-4.6"],
    "MiniMax": ["MiniMax-M2", "MiniMax-M3"],
    "Baidu": ["ERNIE 5", "ERNIE X2"],
    "Tencent": ["Hunyuan-T2", "Hunyuan 3D"],
    "Nvidia": ["Nemotron 4", "Cosmos 2"],
}
CHIPS = [
    "H100", "H200", "H20", "B200", "B300", "GB300", "Blackwell Ultra", "Vera Rubin", "MI355X",
    "MI400", "Gaudi 4", "TPU v7", "Trainium 3", "Ascend 910C", "HBM4", "CoWoS",
]  # fmt: skip
INVESTORS = [
    "SoftBank", "Andreessen Horowitz", "Sequoia", "Thrive Capital", "Lightspeed",
    "Khosla Ventures", "General Catalyst", "Index Ventures", "Accel", "Coatue", "Greenoaks",
    "Hongshan", "Tencent", "Alibaba", "Nvidia", "Microsoft", "Fidelity", "Tiger Global",
    "a16z", "Founders Fund", "Kleiner Perkins", "Mubadala", "MGX", "Temasek",
]  # fmt: skip
REGULATORS = [
    "the European Commission", "the US Commerce Department", "China's Cyberspace Administration",
    "the UK AI Security Institute", "Japan's METI", "India's IT ministry", "California lawmakers",
    "New York's attorney general", "South Korea's science ministry", "the FTC", "the SEC",
    "Brussels", "the White House", "the Bureau of Industry and Security", "Singapore's IMDA",
]  # fmt: skip
POLICIES = [
    "export controls on advanced chips", "a licensing regime for frontier models",
    "transparency rules for training data", "a code of practice for general-purpose AI",
    "watermarking requirements for AI images", "limits on facial recognition",
    "safety testing before release", "an inquiry into AI partnerships",
    "new rules for AI in hiring", "copyright obligations for model makers",
    "restrictions on HBM exports", "a ban on AI-generated robocalls",
]  # fmt: skip
ROLES = [
    "chief scientist", "head of research", "post-training lead", "chief technology officer",
    "head of safety", "vice president of engineering", "head of infrastructure",
    "research director", "head of product", "chief operating officer", "pretraining lead",
    "head of robotics", "chief financial officer", "head of alignment",
]  # fmt: skip
AREAS = [
    "reasoning", "coding agents", "multimodal models", "robotics", "inference efficiency",
    "long-context training", "reinforcement learning", "speech models", "video generation",
    "interpretability", "on-device models", "retrieval-augmented generation", "tool use",
    "synthetic data", "evaluation", "AI safety", "chip design", "data centers",
]  # fmt: skip
FEATURES = [
    "a million-token context", "open weights", "native tool calling", "lower API prices",
    "a mixture-of-experts design", "stronger coding benchmarks", "faster inference",
    "built-in web search", "image and audio input", "a reasoning mode", "agentic workflows",
    "a smaller distilled version", "multilingual support", "on-device deployment",
    "structured outputs", "computer use",
]  # fmt: skip
PRODUCTS = [
    "an AI browser", "a coding assistant", "a voice assistant", "an enterprise agent platform",
    "a research agent", "a smart-glasses app", "a shopping agent", "an AI tutor",
    "a meeting assistant", "a customer-support bot", "an image editor", "a spreadsheet agent",
    "a memory feature", "a team workspace", "an app store for agents", "a health assistant",
]  # fmt: skip
PLACES = [
    "San Francisco", "London", "Paris", "Beijing", "Hangzhou", "Shanghai", "Shenzhen",
    "Seattle", "New York", "Tokyo", "Singapore", "Toronto", "Zurich", "Bangalore", "Austin",
    "Abu Dhabi", "Seoul", "Taipei", "Munich", "Tel Aviv",
]  # fmt: skip
BANKS = ["Morgan Stanley", "Goldman Sachs", "Bernstein", "Jefferies", "UBS", "Citi", "Gartner"]
MARKETS = [
    "AI accelerators", "inference services", "enterprise AI software", "AI data centers",
    "humanoid robots", "AI coding tools", "high-bandwidth memory", "AI PCs", "sovereign AI",
]  # fmt: skip
FIRST = [
    "Alex", "Sam", "Jordan", "Maria", "Wei", "Li", "Yang", "Chen", "Priya", "Arjun", "Elena",
    "Tom", "Sarah", "David", "Noam", "Ilya", "Mira", "Dario", "Demis", "Jan", "Lukas", "Hana",
    "Kenji", "Yuki", "Fatima", "Omar", "Sofia", "Lucas", "Emma", "Olivia", "Zhang", "Liang",
    "Ravi", "Anna", "Marco", "Chloe", "Daniel", "Grace", "Ethan", "Nina",
]  # fmt: skip
LAST = [
    "Chen", "Wang", "Liu", "Zhang", "Huang", "Smith", "Johnson", "Patel", "Kumar", "Garcia",
    "Müller", "Rossi", "Dubois", "Tanaka", "Kim", "Park", "Nguyen", "Cohen", "Levi", "Novak",
    "Schmidt", "Silva", "Okafor", "Mensah", "Ivanova", "Larsen", "Brown", "Davis", "Wilson",
    "Moore", "Taylor", "Anderson", "Thomas", "Martin", "Lee", "Walker", "Young", "Hall",
]  # fmt: skip
MONTHS = [
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
]  # fmt: skip

# Made-up start-ups: a long tail of names that each appear a few hundred times in 1M items.
_SYLLABLES = [
    "Flu", "Vec", "Neu", "Syn", "Qua", "Lum", "Cor", "Aeth", "Tes", "Hel", "Nim", "Orb", "Zen",
    "Kai", "Mor", "Ver", "Ast", "Cog", "Dat", "Ev", "Pix", "Rho", "Sol", "Tal", "Ux", "Wren",
]  # fmt: skip
_MIDDLES = ["", "ra", "lo", "ti", "xo", "na", "vi", "me"]
_ENDS = ["on", "ix", "a", "ly", "us", "ic", "io", "ent", "ar", "os"]
_SUFFIXES = ["", "", " AI", " Labs", " Robotics", " Systems"]

# --- Chinese ---------------------------------------------------------------------------------
LABS_ZH = [
    "深度求索", "阿里巴巴", "通义千问", "月之暗面", "字节跳动", "智谱", "百度", "腾讯", "华为",
    "MiniMax", "阶跃星辰", "零一万物", "商汤", "科大讯飞", "寒武纪", "摩尔线程", "英伟达",
    "OpenAI", "Anthropic", "小米", "快手", "美团",
]  # fmt: skip
FEATURES_ZH = [
    "百万 token 上下文", "API 价格再降四成", "开源全部权重", "推理能力大幅提升", "支持多模态输入",
    "代码能力登顶榜单", "推理速度提升三倍", "支持智能体工具调用", "端侧部署", "长文本理解",
]  # fmt: skip
_LAB_OF_ZH = {
    "深度求索": "DeepSeek", "阿里巴巴": "Alibaba", "通义千问": "Qwen team",
    "月之暗面": "Moonshot AI", "字节跳动": "ByteDance", "智谱": "Zhipu AI", "百度": "Baidu",
    "腾讯": "Tencent",
    "MiniMax": "MiniMax", "英伟达": "Nvidia", "OpenAI": "OpenAI", "Anthropic": "Anthropic",
}  # fmt: skip
SURNAMES_ZH = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾")
GIVEN_ZH = [
    "伟", "芳", "娜", "敏", "静", "磊", "洋", "勇", "军", "杰", "涛", "明", "超", "霞", "平",
    "志强", "建华", "海燕", "晓明", "宇航", "思远", "一鸣", "子涵", "浩然", "雨萱", "博文",
    "佳怡", "俊杰", "欣怡", "梓轩", "天宇", "嘉怡", "文博", "晨曦", "若曦", "振宇", "立新",
    "国强", "永刚", "凯",
]  # fmt: skip
AREAS_ZH = [
    "多模态", "具身智能", "智能体", "自动驾驶", "代码生成", "语音识别", "视频生成", "推理",
    "长文本", "端侧模型", "芯片设计", "数据标注", "医疗大模型", "金融大模型", "教育", "机器人",
    "检索增强", "安全对齐", "算力调度", "云服务",
]  # fmt: skip
PRODUCTS_ZH = [
    "AI 搜索", "编程助手", "智能体平台", "AI 眼镜", "写作助手", "AI 手机", "翻译耳机",
    "客服机器人", "会议助手", "AI 浏览器", "学习平板", "数字人", "陪伴应用", "办公套件",
]  # fmt: skip
BENCHMARKS = ["C-Eval", "MMLU", "SuperCLUE", "LiveCodeBench", "GPQA", "AIME", "SWE-bench"]
REGULATORS_ZH = ["国家网信办", "工信部", "科技部", "国家发改委", "上海市经信委", "北京市科委"]
TITLES_ZH = ["首席科学家", "首席技术官", "研究院院长", "副总裁", "大模型负责人", "首席执行官"]
_ZH_FIRST = list("智云深星元灵图晶芯极数光思源澜墨启衡睿航")
_ZH_SECOND = list("谱途算联象川维格律言微视达创行域脉镜")
_ZH_KINDS = ["科技", "智能", "AI", "机器人", "半导体", "数据"]
ROLES_ZH = ["算法工程师", "研究员", "大模型训练", "推理优化", "产品经理", "数据标注", "芯片设计"]
CITIES_ZH = ["北京", "上海", "杭州", "深圳", "广州", "成都", "武汉", "南京", "苏州", "合肥"]
POLICIES_ZH = [
    "生成式人工智能服务管理办法", "算力基础设施补贴", "人工智能产业发展行动计划",
    "数据要素流通规则", "大模型备案新规", "人工智能伦理审查办法",
]  # fmt: skip


@dataclass(frozen=True, slots=True)
class FeedSpec:
    """A generated feed: `kind` is outlet | aggregator (title-only links to others' stories)."""

    index: int
    url: str
    title: str
    lang: str  # en | zh
    kind: str
    weight: float
    headline_only: float  # share of its originals with no summary
    tags: tuple[str, ...] = ()


@dataclass(slots=True)
class GeneratedArchive:
    """What the generator emitted, to compare with what the store made of it."""

    items: int = 0
    originals: int = 0
    copies: dict[str, int] = field(default_factory=lambda: {"link": 0, "wire": 0, "rewrite": 0})
    hot_week_items: int = 0
    zh_items: int = 0


_OUTLETS_EN = [
    "Reuters Technology", "TechPress AI", "Bloomberg Tech", "The Information", "VentureBeat AI",
    "Ars Technica AI", "Wired AI", "MIT Technology Review", "SemiAnalysis", "Import AI",
    "The Batch", "Financial Times AI", "The Verge AI", "TechCrunch AI", "Axios AI+",
    "OpenAI News", "Anthropic News", "DeepSeek Releases", "Nvidia Newsroom", "Hugging Face Blog",
    "Google AI Blog", "Meta AI Blog", "Mistral News", "arXiv cs.CL", "arXiv cs.LG",
]  # fmt: skip
_AGGREGATORS = ["Hacker News AI", "Reddit r/LocalLLaMA", "Google News AI", "Techmeme", "Lobsters"]
_OUTLETS_ZH = ["机器之芯", "量子位", "36氪 AI", "雷锋网 AI", "新智元", "InfoQ 中文", "钛媒体 AI"]
_ADJECTIVES = [
    "Neural", "Latent", "Silicon", "Tensor", "Gradient", "Open", "Frontier", "Deep", "Synthetic",
    "Applied", "Sparse", "Dense", "Quantum", "Parallel", "Hidden", "Signal", "Compute",
    "Inference", "Token", "Vector", "Model", "Agentic", "Machine", "Cognitive", "Attention",
]  # fmt: skip
_NOUNS = [
    "Dispatch", "Weekly", "Ledger", "Signal", "Review", "Digest", "Brief", "Notes", "Journal",
    "Report", "Wire", "Observer", "Monitor", "Gazette", "Times", "Post", "Herald", "Memo",
]  # fmt: skip
_ZH_PREFIXES = ["智能", "AI", "模型", "算力", "科技", "前沿", "芯片", "数智"]
_ZH_SUFFIXES = ["观察", "前线", "日报", "周刊", "速递", "研究院", "早报"]


def make_feeds(count: int = 500, seed: int = 1) -> list[FeedSpec]:
    """`count` feeds: known outlets and aggregators first, then generated names; ~8% Chinese."""
    rng = random.Random(f"feeds-{seed}")
    names: list[tuple[str, str, str]] = [(name, "en", "outlet") for name in _OUTLETS_EN]
    names += [(name, "en", "aggregator") for name in _AGGREGATORS]
    names += [(name, "zh", "outlet") for name in _OUTLETS_ZH]
    zh_generated = [p + s for p in _ZH_PREFIXES for s in _ZH_SUFFIXES]
    en_generated = [f"{a} {n}" for a in _ADJECTIVES for n in _NOUNS]
    rng.shuffle(zh_generated)
    rng.shuffle(en_generated)
    zh_wanted = max(0, round(count * 0.08) - len(_OUTLETS_ZH))
    names += [(name, "zh", "outlet") for name in zh_generated[:zh_wanted]]
    names += [(name, "en", "outlet") for name in en_generated[: count - len(names)]]
    names = names[:count]
    feeds = []
    for index, (title, lang, kind) in enumerate(names):
        weight = 1 / (1 + index) ** 0.6 if index < 40 else rng.uniform(0.05, 0.25)
        headline_only = 0.0
        if title.startswith(("arXiv", "DeepSeek", "OpenAI", "Anthropic")):
            headline_only = 0.5
        elif kind == "outlet":
            headline_only = rng.choice([0.0, 0.0, 0.0, 0.05, 0.3])
        slug = f"feed{index:04d}"
        feeds.append(
            FeedSpec(
                index=index,
                url=f"https://{slug}.example/{'rss' if index % 2 else 'atom'}.xml",
                title=title,
                lang=lang,
                kind=kind,
                weight=weight,
                headline_only=headline_only,
                tags=("china",) if lang == "zh" and rng.random() < 0.3 else (),
            )
        )
    return feeds


class Generator:
    """The items of `total` polls' worth of news, in poll order; see the module docstring."""

    def __init__(
        self,
        total: int,
        *,
        seed: int = 1,
        feeds: int = 500,
        hot_share: float = 0.05,
        start: datetime = START,
        end: datetime = END,
        hot_week_start: datetime = HOT_WEEK,
    ) -> None:
        self.total = total
        self.seed = seed
        self.feeds = make_feeds(feeds, seed)
        self.hot_share = hot_share
        self.start, self.end = start, end
        self.hot_start, self.hot_end = hot_week_start, hot_week_start + timedelta(weeks=1)
        self.stats = GeneratedArchive()
        self._rng = random.Random(f"items-{seed}")
        startups = [
            f"{a}{m}{e}{s}"
            for a in _SYLLABLES
            for m in _MIDDLES
            for e in _ENDS
            for s in _SUFFIXES[:1]
        ]
        random.Random(f"startups-{seed}").shuffle(startups)
        self._startups = [name + random.Random(name).choice(_SUFFIXES) for name in startups[:2000]]
        self._startups_zh = [a + b + k for a in _ZH_FIRST for b in _ZH_SECOND for k in _ZH_KINDS]
        self._labs = [name for name, _ in LABS]
        self._lab_weights = [weight for _, weight in LABS]
        by_lang: dict[tuple[str, str], list[FeedSpec]] = {}
        for feed in self.feeds:
            by_lang.setdefault((feed.lang, feed.kind), []).append(feed)
        self._outlets = {lang: by_lang.get((lang, "outlet"), []) for lang in ("en", "zh")}
        self._outlet_weights = {
            lang: list(_cumulative(f.weight for f in feeds))
            for lang, feeds in self._outlets.items()
        }
        self._aggregators = by_lang.get(("en", "aggregator"), [])
        self._serial = [0] * len(self.feeds)

    # --- the timeline -------------------------------------------------------------------------

    def _hour_weight(self, moment: datetime) -> float:
        progress = (moment - self.start) / (self.end - self.start)
        growth = 0.6 + 0.8 * progress
        hour = moment.hour + moment.minute / 60
        daily = 0.45 + 0.55 * math.exp(-(((hour - 15) / 5) ** 2))
        weekly = 0.5 if moment.weekday() >= 5 else 1.0
        return growth * daily * weekly

    def rounds(self) -> Iterator[tuple[datetime, list[tuple[FeedSpec, list[Item]]]]]:
        """(poll time, [(feed, its new items)]) for each hourly round, until `total` items."""
        rng = self._rng
        copies_per_original = 0.29  # the expectation of _copy_count
        originals_wanted = self.total / (1 + copies_per_original) * 1.01  # the cap trims the end
        hot_originals = originals_wanted * self.hot_share
        normal_originals = originals_wanted - hot_originals
        hours = int((self.end - self.start) / ROUND)
        weights = [self._hour_weight(self.start + ROUND * h) for h in range(hours)]
        hot = [self.hot_start <= self.start + ROUND * h < self.hot_end for h in range(hours)]
        normal_sum = sum(w for w, is_hot in zip(weights, hot, strict=True) if not is_hot)
        hot_sum = sum(w for w, is_hot in zip(weights, hot, strict=True) if is_hot) or 1.0
        pending: list[tuple[datetime, int, FeedSpec, Item]] = []  # copies yet to appear
        sequence = 0
        expected = 0.0
        emitted_originals = 0
        for h in range(hours):
            poll = self.start + ROUND * (h + 1)
            scale = hot_originals / hot_sum if hot[h] else normal_originals / normal_sum
            expected += weights[h] * scale
            count = int(expected) - emitted_originals
            emitted_originals += count
            batch: dict[int, tuple[FeedSpec, list[Item]]] = {}
            for _ in range(count):
                when = poll - timedelta(seconds=rng.randrange(1, 3600))
                feed, item = self._original(when)
                batch.setdefault(feed.index, (feed, []))[1].append(item)
                self.stats.originals += 1
                for _ in range(_copy_count(rng)):
                    delay = timedelta(minutes=10 + rng.expovariate(1 / 600))
                    copy = self._copy(feed, item, when + min(delay, timedelta(hours=48)))
                    if copy is not None:
                        sequence += 1
                        heapq.heappush(pending, (copy[1].published, sequence, *copy))
            while pending and pending[0][0] <= poll:
                _, _, copy_feed, copy_item = heapq.heappop(pending)
                batch.setdefault(copy_feed.index, (copy_feed, []))[1].append(copy_item)
            out: list[tuple[FeedSpec, list[Item]]] = []
            for feed, items in batch.values():
                room = self.total - self.stats.items
                if room <= 0:
                    break
                items = items[:room]
                self.stats.items += len(items)
                if hot[h]:
                    self.stats.hot_week_items += len(items)
                if feed.lang == "zh":
                    self.stats.zh_items += len(items)
                out.append((feed, items))
            if out:
                yield poll, out
            if self.stats.items >= self.total:
                return

    # --- items ---------------------------------------------------------------------------------

    def _pick_outlet(self, lang: str) -> FeedSpec:
        feeds = self._outlets[lang]
        return self._rng.choices(feeds, cum_weights=self._outlet_weights[lang])[0]

    def _original(self, when: datetime) -> tuple[FeedSpec, Item]:
        rng = self._rng
        lang = "zh" if rng.random() < 0.085 else "en"
        feed = self._pick_outlet(lang)
        title, summary = self._zh_text() if lang == "zh" else self._en_text()
        if rng.random() < feed.headline_only:
            summary = ""
        self._serial[feed.index] += 1
        serial = self._serial[feed.index]
        url = f"https://{feed.url.split('/')[2]}/{when:%Y/%m}/{serial}"
        author = f"{rng.choice(FIRST)} {rng.choice(LAST)}" if rng.random() < 0.6 else None
        return feed, _item(f"{feed.index}-{serial}", url, title, summary, author, when)

    def _copy(
        self, source: FeedSpec, original: Item, when: datetime
    ) -> tuple[FeedSpec, Item] | None:
        rng = self._rng
        kind = rng.choices(("link", "wire", "rewrite"), (35, 25, 40))[0]
        if kind == "link" and source.lang == "en" and self._aggregators:
            feed = rng.choice(self._aggregators)
            title, summary, url = original.title, "", original.url
        else:
            kind = "rewrite" if kind == "link" else kind
            feed = self._pick_outlet(source.lang)
            if feed.index == source.index:
                return None
            title, summary = original.title, original.summary
            if kind == "rewrite":
                title, summary = _rewrite(rng, feed, title, summary)
            url = f"https://{feed.url.split('/')[2]}/{when:%Y/%m}/c{self._serial[feed.index] + 1}"
        self.stats.copies[kind] += 1
        self._serial[feed.index] += 1
        # The original's GUID rides along, so the stories the store built can be checked.
        guid = f"{feed.index}-{self._serial[feed.index]}{COPY_OF}{original.guid}"
        return feed, _item(guid, url, title, summary, original.author, when)

    def _lab(self) -> str:
        return self._rng.choices(self._labs, self._lab_weights)[0]

    def _org(self) -> str:
        """A known lab two times in three, else a start-up from the long tail."""
        rng = self._rng
        return self._lab() if rng.random() < 0.66 else rng.choice(self._startups)

    def _model(self, lab: str) -> str:
        rng = self._rng
        names = MODELS.get(lab)
        if names:
            return rng.choice(names)
        return f"{lab.split()[0]}-{rng.choice(['1', '2', '3', 'X', 'Pro', 'Lite'])}"

    def _en_text(self) -> tuple[str, str]:
        rng = self._rng
        topic = rng.choices(_TOPICS, _TOPIC_WEIGHTS)[0]
        fill = self._fill()
        subject = rng.choice(_SUBJECTS).format(**fill)
        predicate = rng.choice(_PREDICATES[topic]).format(**fill)
        title = f"{subject} {predicate}"
        if rng.random() < 0.6:
            title += " " + rng.choice(_MODIFIERS).format(**self._fill())
        title = title[0].upper() + title[1:]
        # The first sentence restates the headline in other words, as a lead does.
        facts = [f"{fill['org']} {predicate} {rng.choice(_MODIFIERS).format(**self._fill())}."]
        for _ in range(rng.randint(1, 3)):
            other = self._fill()
            other["subject"] = rng.choice(_SUBJECTS).format(**other)
            other["predicate"] = rng.choice(_PREDICATES[topic]).format(**other)
            other["predicate2"] = rng.choice(_PREDICATES[rng.choice(_TOPICS)]).format(**other)
            other["modifier"] = rng.choice(_MODIFIERS).format(**other)
            facts.append(rng.choice(_FACTS).format(**other))
        summary = " ".join(fact[0].upper() + fact[1:] for fact in facts)
        return title, summary

    def _zh_text(self) -> tuple[str, str]:
        rng = self._rng
        org = rng.choice(LABS_ZH) if rng.random() < 0.6 else rng.choice(self._startups_zh)
        org2 = rng.choice(LABS_ZH) if rng.random() < 0.6 else rng.choice(self._startups_zh)
        fill = {
            "org": org,
            "org2": org2 if org2 != org else rng.choice(self._startups_zh),
            "model": self._model(_LAB_OF_ZH.get(org) or rng.choice(list(MODELS))),
            "feature": rng.choice(FEATURES_ZH),
            "feature2": rng.choice(FEATURES_ZH),
            "n": rng.randint(2, 900),
            "m": rng.randint(10, 3000),
            "k": rng.randint(1, 10),
            "role": rng.choice(ROLES_ZH),
            "city": rng.choice(CITIES_ZH),
            "city2": rng.choice(CITIES_ZH),
            "policy": rng.choice(POLICIES_ZH),
            "chip": rng.choice(CHIPS),
            "investor": rng.choice(INVESTORS),
            "round": rng.choice(["A", "B", "C", "D", "Pre-A", "B+", "天使", "战略"]),
            "pct": rng.randint(5, 90),
            "person": rng.choice(SURNAMES_ZH) + rng.choice(GIVEN_ZH),
            "person2": rng.choice(SURNAMES_ZH) + rng.choice(GIVEN_ZH),
            "area": rng.choice(AREAS_ZH),
            "area2": rng.choice(AREAS_ZH),
            "product": rng.choice(PRODUCTS_ZH),
            "bench": rng.choice(BENCHMARKS),
            "score": f"{rng.uniform(40, 95):.1f}",
            "params": rng.choice(["70 亿", "140 亿", "320 亿", "700 亿", "2350 亿", "6710 亿"]),
            "year": rng.choice([2025, 2026, 2027]),
            "month": rng.randint(1, 12),
            "regulator": rng.choice(REGULATORS_ZH),
            "title": rng.choice(TITLES_ZH),
        }
        if rng.random() < 0.3:
            title = rng.choice(_TITLES_ZH).format(**fill)
        else:
            title = f"{org}{self._zh_clause(fill)}"
            if rng.random() < 0.8:
                title += "，" + rng.choice(_TAILS_ZH).format(**fill)
        sentences = [f"{org}{self._zh_clause(fill)}，{rng.choice(_TAILS_ZH).format(**fill)}。"]
        for _ in range(rng.randint(1, 3)):
            if rng.random() < 0.5:
                sentences.append(rng.choice(_SUMMARIES_ZH).format(**fill))
            else:
                who = rng.choice(SURNAMES_ZH) + rng.choice(GIVEN_ZH)
                sentences.append(
                    f"{who}表示，{fill['org2']}{self._zh_clause(fill)}，"
                    f"{rng.choice(_TAILS_ZH).format(**fill)}。"
                )
        return title, "".join(sentences)

    def _zh_clause(self, fill: dict[str, object]) -> str:
        rng = self._rng
        noun = rng.choice(_NOUNS_ZH)
        return rng.choice(_VERBS_ZH) + rng.choice(_OBJECTS_ZH).format(noun=noun, **fill)

    def _fill(self) -> dict[str, object]:
        rng = self._rng
        org = self._org()
        lab = self._lab()
        return {
            "org": org,
            "org2": self._org(),
            "lab": lab,
            "model": self._model(lab),
            "chip": rng.choice(CHIPS),
            "chip2": rng.choice(CHIPS),
            "ver": rng.choice(["", "", "v"]) + f"{rng.randint(1, 9)}.{rng.randint(0, 20)}",
            "day": rng.randint(1, 28),
            "investor": rng.choice(INVESTORS),
            "investor2": rng.choice(INVESTORS),
            "amount": rng.choice([5, 12, 20, 35, 50, 80, 120, 200, 300, 450, 600, 900]),
            "billions": rng.choice([1, 2, 3.5, 5, 6.6, 8, 10, 13, 20, 30, 40]),
            "valuation": rng.choice([1, 2, 4, 7, 10, 18, 30, 61, 157, 183, 300, 500]),
            "round": rng.choice(["Seed", "Series A", "Series B", "Series C", "Series D"]),
            "person": f"{rng.choice(FIRST)} {rng.choice(LAST)}",
            "person2": f"{rng.choice(FIRST)} {rng.choice(LAST)}",
            "role": rng.choice(ROLES),
            "area": rng.choice(AREAS),
            "feature": rng.choice(FEATURES),
            "feature2": rng.choice(FEATURES),
            "product": rng.choice(PRODUCTS),
            "regulator": rng.choice(REGULATORS),
            "policy": rng.choice(POLICIES),
            "place": rng.choice(PLACES),
            "bank": rng.choice(BANKS),
            "market": rng.choice(MARKETS),
            "month": rng.choice(MONTHS),
            "year": rng.choice([2026, 2027, 2028, 2030]),
            "n": rng.randint(2, 900),
            "pct": rng.randint(3, 95),
            "params": rng.choice(["7B", "14B", "32B", "70B", "120B", "235B", "405B", "671B", "1T"]),
            "score": f"{rng.uniform(40, 95):.1f}",
            "event": rng.choice(_EVENTS),
            "weekday": rng.choice(_WEEKDAYS),
            "moved": rng.choice(_MOVES),
            "claim": rng.choice(_CLAIMS),
        }


_TOPICS = [
    "release", "funding", "talent", "chips", "policy", "research", "product", "open", "agents",
]  # fmt: skip
_TOPIC_WEIGHTS = [20, 14, 10, 10, 9, 14, 12, 5, 6]
# English text is generated, not templated whole: subject + predicate (+ modifiers), each from
# its own pool, so two stories share a word pair (a MinHash shingle) only where they share a
# name or a pool entry, as two real headlines do. Whole-sentence templates made unrelated
# stories of one week look like copies of each other at a million items.
_SUBJECTS = [
    "{org}", "{org}", "{org}", "{lab}", "{lab}", "{place}-based {org}", "{person}'s {org}",
    "{org}, backed by {investor},", "{lab} rival {org}",
]  # fmt: skip
_PREDICATES = {
    "release": [
        "releases {model} {ver}",
        "launches {model} {ver} with {feature}",
        "unveils {model} {ver}, promising {feature}",
        "ships {model} {ver} to {n} million users",
        "previews a {params} {model} {ver} for {area}",
        "updates {model} to {ver}",
        "rolls out {model} {ver} in {place}",
        "details {model} {ver} training on {n}B tokens",
        "opens {model} {ver} API at ${n} per million tokens",
        "teases {model} {ver} for {month}",
        "says {model} {ver} scores {score} on {area} tests",
        "debuts {feature} in {model} {ver}",
    ],
    "funding": [
        "raises ${amount}M {round} from {investor}",
        "raises ${n}M {round} led by {investor}",
        "closes ${billions}B round at ${valuation}B valuation",
        "secures ${n}M from {investor} for {product}",
        "is raising at a ${valuation}B valuation, {person} says",
        "lands ${n}M {round} from {investor2}",
        "acquires {org2} for ${n}M",
        "agrees to buy {org2} in {area} push",
        "files for {place} IPO with ${n}M revenue",
        "gets ${billions}B investment from {investor} at ${valuation}B",
        "doubles valuation to ${valuation}B in ${n}M {round}",
        "takes a {pct}% stake in {org2}",
    ],
    "talent": [
        "hires {lab} {role} {person}",
        "poaches {n} {area} researchers from {lab}",
        "loses {role} {person} to {org2}",
        "names {person} {role}",
        "lays off {n} staff in {place}",
        "freezes hiring outside {area}, {person} says",
        "offers ${amount}M pay packages to {n} {area} researchers",
        "appoints {person} to lead {area}",
        "says {role} {person} has left for {org2}",
        "opens {n} {area} job openings in {place}",
        "recruits {person} and {person2} from {lab}",
        "cuts {pct}% of its {n}-person workforce",
        "is hiring {n} {area} researchers in {place}",
    ],
    "chips": [
        "orders {n},000 {chip} accelerators",
        "builds {n}-megawatt {chip} cluster in {place}",
        "delays {chip} shipments to {org2} until {month}",
        "unveils {chip2} rival with {pct}% lower cost",
        "signs ${billions}B {chip} compute deal with {org2}",
        "expects {chip} shortage until {year}, {person} says",
        "cuts {chip} rental prices by {pct}%",
        "tapes out {area} chip at {n}nm",
        "adds {n},000 wafers of CoWoS capacity for {chip}",
        "secures HBM supply for {n},000 {chip} boards",
    ],
    "policy": [
        "faces {regulator} probe over {n} {area} complaints",
        "backs {policy}, {person} tells {n} staff",
        "opposes {policy} in {n}-page filing",
        "gets {month} {day} deadline from {regulator} on {policy}",
        "spends ${n}M lobbying {regulator}",
        "settles with {regulator} for ${n}M",
        "wins exemption from {policy} for {product}",
        "publishes {n}-page response to {regulator} on {area}",
        "is fined ${n}M by {regulator}",
    ],
    "research": [
        "reports {pct}% {area} gain with {feature}",
        "publishes {params} {area} model paper with {person}",
        "finds {area} fails beyond {n} steps",
        "open-sources {area} benchmark with {n} tasks",
        "shares interpretability results on {model} {ver}",
        "trains {params} model on {n}B tokens",
        "proposes {feature} for {area}, led by {person}",
        "beats larger models at {area} with {params} model scoring {score}",
    ],
    "product": [
        "launches {product} for {area} in {place}",
        "brings {product} to {n} countries",
        "adds {feature} to {product} for {n} million users",
        "prices {product} at ${n} a month",
        "ends {product} in {place} on {month} {day}",
        "says {product} has {n} million users",
        "builds {product} on {model} {ver}",
        "demos {product} with {feature}, {person} says",
    ],
    "open": [
        "open-sources {model} {ver} under Apache 2.0",
        "releases open weights for {params} model scoring {score}",
        "publishes {n}B-token {area} dataset",
        "open-sources {area} agent framework with {n} tools",
    ],
    "agents": [
        "launches {area} agents for {n} customers",
        "says its agent completes {pct}% of {n} tasks",
        "adds retrieval-augmented generation to {product} for {n} teams",
        "builds coding agent on {model} {ver} for {n} teams",
        "ships computer-use agent for {area}, {person} says",
        "lets agents pay for {product} in {place}",
    ],
}
_MODIFIERS = [
    "in {place}", "on {weekday}", "for {area}", "ahead of {event}", "after {n} months",
    "as {org2} competes", "amid {area} race", "in {month}", "with {investor} support",
    "despite {regulator} scrutiny", "to challenge {lab}", "as revenue hits ${n}M",
    "in deal with {org2}", "for {n},000 developers", "at {event}",
]  # fmt: skip
_FACTS = [
    "{subject} {predicate} {modifier}.", "{person}, {role} at {org}, said {area} {claim}.",
    "{bank} estimates {market} will reach ${valuation}B by {year}.",
    "{org} declined to comment {modifier}.", "Shares of {org2} {moved} {pct}% {modifier}.",
    "{org2} {predicate2} in {month}.", "The team of {n} is based in {place}.",
    "{investor} and {investor2} are among its backers.",
    "{product} usage {moved} {pct}% {modifier}.",
    "{regulator} is expected to rule by {month}.", "{person} previously worked at {lab} on {area}.",
    "Benchmarks from {org2} put it at {score} on {area}.",
]  # fmt: skip
_CLAIMS = [
    "remains the priority", "is moving faster than expected", "needs more compute",
    "will define the next year", "is still early", "has become crowded", "drives demand",
]  # fmt: skip
_EVENTS = ["NeurIPS", "Computex", "GTC", "WWDC", "I/O", "Build", "re:Invent", "WAIC", "CES"]
_WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]
_MOVES = ["rose", "fell", "jumped", "slid", "climbed", "dropped"]

_TITLES_ZH = [
    "{org}发布{model}：{feature}",
    "{org}发布{product}，{feature}",
    "{org}完成{n}亿元{round}轮融资，{investor}领投",
    "{org}获{investor}{n}亿元投资，估值达{m}亿元",
    "{org}启动{year}届校招，开放{n}个{role}岗位",
    "{org}{area}负责人{person}离职，加盟{org2}",
    "{person}出任{org}{title}，曾任职于{org2}",
    "{chip}出口管制升级，{org}称对{area}业务影响有限",
    "{org}开源{params}参数{area}模型，{feature}",
    "{city}出台{policy}，{n}家企业首批入选",
    "{org}与{org2}达成{area}合作，采购{n}台{chip}服务器",
    "{org}{model}在{bench}评测中得分{score}，位列第{k}",
    "价格战再起：{org}将{model}调用价格下调{pct}%",
    "{org}在{city}建设{n}兆瓦智算中心，{year}年投产",
    "{org}{product}月活用户突破{m}万",
    "{org}裁员{pct}%，{area}团队受影响最大",
    "{org}{year}年营收{m}亿元，{area}业务同比增长{pct}%",
    "对话{person}：{area}的下一步是{feature}",
    "{org}成立{area}实验室，{person}任负责人",
    "{org}宣布收购{org2}，交易金额约{n}亿元",
    "{org}递表港交所，拟募资{n}亿港元",
    "{regulator}就{policy}公开征求意见",
    "{org}{model}接入{city}{n}家医院",
    "{org}发布{area}白皮书：{pct}%企业已部署大模型",
    "{city}{area}产业规模突破{m}亿元",
    "{org}与{city2}市政府签约，共建{area}创新中心",
    "{person}：{org}将在{month}月推出{product}",
    "{org}{role}平均年薪涨至{n}万元",
    "{org}启动大规模招聘，开放{n}个{role}岗位",
]
_SUMMARIES_ZH = [
    "{org}今日正式发布{model}，官方表示新模型{feature}。",
    "据知情人士透露，{org}本轮融资后估值超过{m}亿元，{investor}参与投资。",
    "{org}在{city}总部开放{n}余个{role}岗位，应届博士总包普遍上涨{pct}%。",
    "受{chip}供应影响，{org2}等厂商加快国产算力替代进程。",
    "{city}市政府表示，将围绕{policy}出台配套措施。",
    "业内人士认为，{org}与{org2}的竞争将在{area}方面进一步加剧。",
    "{org}表示，{product}已在{city}等地开放测试，用户规模增长{pct}%。",
    "{person}在接受采访时称，{area}仍处于早期阶段，{year}年有望迎来拐点。",
    "此前，{person2}曾在{org2}负责{area2}相关工作。",
    "公开资料显示，{org}成立于{k}年前，核心团队约{n}人。",
    "该模型在{bench}上取得{score}分，{feature2}。",
    "{regulator}相关负责人表示，{policy}将于{month}月起施行。",
    "分析人士指出，{area}赛道今年已发生{n}起融资事件。",
    "{org}计划将资金用于{area}研发和{city2}基地建设。",
    "据统计，{city}已聚集{area}企业{m}家。",
    "{org}股价当日上涨{pct}%，市值重回{m}亿元。",
    "{person}透露，{product}的付费用户已超过{n}万。",
    "{org2}随后回应称，双方合作不涉及{area2}业务。",
    "据悉，新版本{feature}，并{feature2}。",
    "{org}方面未对上述消息置评。",
    "第三方测试显示，{model}在{area}任务上的准确率达到{score}%。",
    "{month}月以来，已有{k}家头部企业宣布下调{area}服务价格。",
]
_VERBS_ZH = [
    "发布", "推出", "上线", "开源", "升级", "展示", "测试", "交付", "部署", "下调", "宣布",
    "签约", "收购", "投资", "成立", "启动", "扩建", "暂停", "关闭", "更新", "押注", "布局",
]  # fmt: skip
_NOUNS_ZH = [
    "平台", "模型", "芯片", "团队", "基地", "中心", "计划", "业务", "实验室", "基金", "框架",
    "服务", "方案", "系统", "产品线", "研究院", "工具链", "数据集",
]  # fmt: skip
_OBJECTS_ZH = [
    "{model}", "{product}", "{area}{noun}", "新一代{area}{noun}", "{params}参数{area}模型",
    "{chip}集群", "{city}{area}{noun}", "{n}个{area}{noun}", "{model}与{product}",
]  # fmt: skip
_TAILS_ZH = [
    "{feature}", "估值{m}亿元", "{person}领衔", "覆盖{n}座城市", "{investor}参与", "首批{n}家客户",
    "投资{m}亿元", "{pct}%用户受益", "与{org2}竞争加剧", "{month}月起开放",
    "{person}称{area2}仍处早期",
    "售价{n}元", "{city2}团队扩至{n}人", "{bench}得分{score}", "{city2}招聘{n}名{role}",
]  # fmt: skip
_DATELINES_ZH = ["", "", "【{city}讯】", "据{org}消息，"]
_DATELINES = ["{place} (Wire) — ", "{place}, {month} {n} — ", "", ""]
_PREFIXES = ["Report: ", "Scoop: ", "Update: ", "Exclusive: ", "", ""]


def _rewrite(rng: random.Random, feed: FeedSpec, title: str, summary: str) -> tuple[str, str]:
    """Another outlet's version: a headline prefix or suffix, a dateline, a cut summary."""
    if feed.lang == "zh":
        title = rng.choice(["【快讯】", "独家｜", "", "重磅："]) + title
        if summary:
            dateline = rng.choice(_DATELINES_ZH).format(city=rng.choice(CITIES_ZH), org=feed.title)
            summary = dateline + summary[: max(20, len(summary) * 2 // 3)]
        return title, summary
    title = rng.choice(_PREFIXES) + title
    if rng.random() < 0.3:
        title = f"{title} - {feed.title}"
    if summary:
        sentences = summary.split(". ")
        kept = ". ".join(sentences[: max(1, len(sentences) - rng.randint(0, 2))])
        place, month = rng.choice(PLACES), rng.choice(MONTHS)
        dateline = rng.choice(_DATELINES).format(place=place, month=month, n=rng.randint(1, 28))
        summary = dateline + kept
    return title, summary


def _copy_count(rng: random.Random) -> int:
    """How many other feeds carry an original: none for most, up to three (mean 0.29)."""
    roll = rng.random()
    return 0 if roll < 0.82 else 1 if roll < 0.92 else 2 if roll < 0.97 else 3


def _item(guid: str, url: str, title: str, summary: str, author: str | None, when: datetime):
    return Item(
        guid=guid,
        url=url,
        title=title,
        summary=summary,
        author=author,
        published=when.replace(microsecond=0),
        content_hash=content_hash(title, summary),
    )


def _cumulative(weights) -> Iterator[float]:
    total = 0.0
    for weight in weights:
        total += weight
        yield total
