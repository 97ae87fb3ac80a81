# Writes ivr/testdata/minimal and the broken cases derived from it. Kept for maintainers:
#   cd ivr/testdata && python3 gen.py
import os, shutil

MIN = {
"12348.toml": '''[plan]
entry = "start"
languages = ["zh"]

[waiting]
max_wait = 60
ring_timeout = 20
after_call_work = 30

[node.start]
kind = "menu"
prompts = ["menu"]
timeout = 5
retries = 2
on_fail = "bye"

[[node.start.choice]]
key = "1"
goto = "route"

[node.route]
kind = "route_duty"
skill = "consultation"
no_region = "bye"
exhausted = "bye"
after_call = "bye"

[node.bye]
kind = "hangup"
prompts = ["bye"]
''',
"hierarchy.toml": '''[[region]]
id = "p"
level = "province"
zh = "省"
en = "Province"

[[region]]
id = "c"
level = "city"
parent = "p"
zh = "市"
en = "City"

[[region]]
id = "k"
level = "county"
parent = "c"
zh = "县"
en = "County"
''',
"regions.toml": '''[landline]
"0797" = "c"

[mobile]
"1387970" = "c"
''',
"roster.toml": '''[[lawyer]]
id = "a"
name = "甲"
sip = "a"
languages = ["zh"]
skills = ["consultation"]

[[shift]]
lawyer = "a"
region = "k"
days = ["mon", "tue"]
from = "09:00"
to = "17:00"
''',
"hours.toml": '''time_zone = "Asia/Shanghai"

[[open]]
days = ["mon", "tue", "wed", "thu", "fri"]
from = "09:00"
to = "17:00"
''',
}
PROMPTS = {"zh": ["menu", "bye"]}

def write(dir, files, prompts):
    if os.path.exists(dir):
        shutil.rmtree(dir)
    os.makedirs(dir)
    for name, text in files.items():
        if text is not None:
            open(os.path.join(dir, name), "w").write(text)
    for lang, names in prompts.items():
        os.makedirs(os.path.join(dir, "prompts", lang), exist_ok=True)
        for n in names:
            open(os.path.join(dir, "prompts", lang, n + ".wav"), "wb").close()

def case(name, file, old, new, prompts=PROMPTS):
    files = dict(MIN)
    if old is None:
        files[file] = new
    else:
        assert old in files[file], (name, old)
        files[file] = files[file].replace(old, new, 1)
    write(os.path.join("broken", name), files, prompts)

write("minimal", MIN, PROMPTS)
if os.path.exists("broken"):
    shutil.rmtree("broken")
case("toml-syntax", "12348.toml", 'entry = "start"', 'entry = "start')
case("unknown-field", "12348.toml", 'languages = ["zh"]', 'languages = ["zh"]\nlangauge = "zh"')
case("unknown-prompt", "12348.toml", 'languages = ["zh"]', 'languages = ["zh", "en"]',
     prompts={"zh": ["menu", "bye"], "en": ["menu"]})
case("unreachable-node", "12348.toml", '[node.bye]', '[node.orphan]\nkind = "hangup"\n\n[node.bye]')
case("choice-to-nowhere", "12348.toml", 'goto = "route"',
     'goto = "route"\n\n[[node.start.choice]]\nkey = "2"\ngoto = "nowhere"\n\n'
     '[[node.start.choice]]\nkey = "3"\ngoto = "complain"\n\n'
     '[node.complain]\nkind = "route_queue"\nqueue = "complaints"\nafter_call = "bye"')
case("duplicate-digit", "12348.toml", 'goto = "route"',
     'goto = "route"\n\n[[node.start.choice]]\nkey = ["0", "1"]\ngoto = "bye"')
case("bad-timeout", "12348.toml", 'timeout = 5\nretries = 2', 'timeout = 0\nretries = 12')
case("overlapping-shifts", "roster.toml", None, MIN["roster.toml"] +
     '\n[[shift]]\nlawyer = "a"\nregion = "c"\ndays = ["tue"]\nfrom = "16:00"\nto = "18:00"\n')
case("unknown-shift-refs", "roster.toml", None, MIN["roster.toml"] +
     '\n[[shift]]\nlawyer = "zhang-san"\nregion = "k"\ndays = ["wed"]\nfrom = "09:00"\nto = "17:00"\n'
     '\n[[shift]]\nlawyer = "a"\nregion = "atlantis"\ndays = ["wed"]\nfrom = "09:00"\nto = "17:00"\n')
case("region-not-in-hierarchy", "regions.toml", '"0797" = "c"', '"0797" = "c"\n"0351" = "taiyuan"')
case("hierarchy-cycle", "hierarchy.toml", 'parent = "p"', 'parent = "k"')
case("hierarchy-orphan", "hierarchy.toml", 'parent = "c"', 'parent = "nowhere"')
case("missing-file", "hours.toml", None, None)
