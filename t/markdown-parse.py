#!/usr/bin/python3
"""markdown-parse.py FILE: parse a Markdown file as python-markdown renders it (with the tables and
fenced_code extensions, as GitHub's renderer has them) and print what a reader sees, as JSON:

  {"title": H1 text, "sections": {H2 text: [[header cells], [row cells], ...]},
   "paragraphs": {H2 text, or "" before the first: [paragraph text, ...]},
   "code": [{"lang": LANG, "text": TEXT}, ...], "html_tags": [every tag name in the document]}

Cell text is the text the browser would show (references decoded). Used by t38xx."""

import html.parser
import json
import sys

import markdown


class Reader(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.title = None
        self.sections = {}
        self.paragraphs = {}
        self.code = []
        self.tags = []
        self.section = None
        self.text = None     # the text being collected, or None
        self.what = None     # "h1", "h2", "cell", "code"
        self.row = None
        self.lang = None

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag in ("h1", "h2", "p"):
            self.what, self.text = tag, ""
        elif tag == "tr":
            self.row = []
        elif tag in ("th", "td"):
            self.what, self.text = "cell", ""
        elif tag == "code" and self.what is None:
            cls = dict(attrs).get("class") or ""
            self.what, self.text = "code", ""
            self.lang = cls[len("language-"):] if cls.startswith("language-") else ""

    def handle_endtag(self, tag):
        if tag == "h1" and self.what == "h1":
            self.title, self.what = self.text, None
        elif tag == "h2" and self.what == "h2":
            self.section, self.what = self.text, None
            self.sections[self.section] = []
        elif tag == "p" and self.what == "p":
            self.paragraphs.setdefault(self.section or "", []).append(self.text)
            self.what = None
        elif tag in ("th", "td") and self.what == "cell":
            self.row.append(self.text)
            self.what = None
        elif tag == "tr":
            self.sections.setdefault(self.section, []).append(self.row)
            self.row = None
        elif tag == "code" and self.what == "code":
            self.code.append({"lang": self.lang, "text": self.text})
            self.what = None

    def handle_data(self, data):
        if self.what is not None:
            self.text += data


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        doc = markdown.markdown(f.read(), extensions=["tables", "fenced_code"])
    r = Reader()
    r.feed(doc)
    r.close()
    json.dump({"title": r.title, "sections": r.sections, "paragraphs": r.paragraphs, "code": r.code, "html_tags": r.tags},
              sys.stdout, ensure_ascii=False, indent=1)
    print()


main()
