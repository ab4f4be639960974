package probe

import (
	"bytes"
	"os"
	"slices"
	"strings"
	"testing"
)

func readPage(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/pages/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestExtractContentForms(t *testing.T) {
	tests := []struct {
		name                       string
		page                       string
		login, elsewhere, overHTTP bool
		inputs                     []string
	}{
		{"same site login", `<form action="/login" method=POST><input name=user><input type=password name=p></form>`,
			true, false, false, []string{"password", "user"}},
		{"posts elsewhere", `<form action="https://collect.evil.example/g.php"><input type=email><input type=password></form>`,
			true, true, false, []string{"email", "password"}},
		{"posts over http", `<form action="http://rivm-test.nl/x"><input type="password"></form>`,
			true, false, true, []string{"password"}},
		{"subdomain is same site", `<form action="https://auth.rivm-test.nl/x"><input type="password"></form>`,
			true, false, false, []string{"password"}},
		{"mailto", `<form action="mailto:drop@evil.example"><input type=password></form>`,
			true, true, false, []string{"password"}},
		{"card and otp", `<form><input name="cardnumber"><input name="cvv"><input autocomplete="one-time-code" name=otp></form>`,
			false, false, false, []string{"card", "otp"}},
		{"search only", `<form action="/search"><input name=q type=search></form>`,
			false, false, false, nil},
		{"password outside a form", `<div><input type=text name=login><input type=password id=pw></div>`,
			true, false, false, []string{"password", "user"}},
		{"unclosed form", `<form action="//evil.example/p"><input type=password>`,
			true, true, false, []string{"password"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ExtractContent([]byte(tt.page), "https://rivm-test.nl/index.html", nil)
			if c.LoginForm != tt.login || c.PostsElsewhere != tt.elsewhere || c.PostsOverHTTP != tt.overHTTP {
				t.Errorf("login %v elsewhere %v http %v, want %v %v %v (forms %+v)",
					c.LoginForm, c.PostsElsewhere, c.PostsOverHTTP, tt.login, tt.elsewhere, tt.overHTTP, c.Forms)
			}
			var inputs []string
			for _, f := range c.Forms {
				inputs = append(inputs, f.Inputs...)
			}
			slices.Sort(inputs)
			if !slices.Equal(slices.Compact(inputs), tt.inputs) {
				t.Errorf("inputs %v, want %v", inputs, tt.inputs)
			}
		})
	}
}

func TestExtractContentFormAction(t *testing.T) {
	c := ExtractContent([]byte(`<form action="../auth/post.php" method="POST"><input type=password></form>`), "https://x.example/a/b/index.html", nil)
	if len(c.Forms) != 1 || c.Forms[0].Action != "https://x.example/a/auth/post.php" || c.Forms[0].Method != "post" {
		t.Errorf("forms %+v", c.Forms)
	}
	c = ExtractContent([]byte(`<form><input type=password></form>`), "https://x.example/p?q=1", nil)
	if c.Forms[0].Action != "https://x.example/p?q=1" || c.Forms[0].Method != "get" {
		t.Errorf("empty action resolves to %q %q, want the page URL and get", c.Forms[0].Action, c.Forms[0].Method)
	}
}

func TestExtractContentDownloadsAndRedirects(t *testing.T) {
	page := `<html><head>
<meta http-equiv="Refresh" content="3; URL='https://next.example/landing'">
<link rel="shortcut icon" href="/static/fav.ico">
<script>
if (a == location) {}
window.location.href = "https://js.example/a";
setTimeout(function(){ location.replace('/relative/b') }, 10);
document.location = ` + "`https://tpl.example/c`" + `;
var x = location.hostname;
</script></head>
<body>
<a href="/files/CORONAVIRUS_COVID-19.vbs">Informatie</a>
<a href="https://cdn.example/setup.EXE?x=1">update</a>
<a href="/docs/guide.pdf">guide</a>
<a href="/get" download>get it</a>
<a href="/files/CORONAVIRUS_COVID-19.vbs">again</a>
</body></html>`
	c := ExtractContent([]byte(page), "https://lure.example/", nil)
	wantDl := []Download{
		{"https://lure.example/files/CORONAVIRUS_COVID-19.vbs", "extension .vbs"},
		{"https://cdn.example/setup.EXE?x=1", "extension .exe"},
		{"https://lure.example/get", "download attribute"},
	}
	if !slices.Equal(c.Downloads, wantDl) {
		t.Errorf("downloads %+v\nwant %+v", c.Downloads, wantDl)
	}
	wantRd := []PageRedirect{
		{"meta_refresh", "https://next.example/landing"},
		{"js_location", "https://js.example/a"},
		{"js_location", "https://lure.example/relative/b"},
		{"js_location", "https://tpl.example/c"},
	}
	if !slices.Equal(c.Redirects, wantRd) {
		t.Errorf("redirects %+v\nwant %+v", c.Redirects, wantRd)
	}
	if c.IconURL != "https://lure.example/static/fav.ico" {
		t.Errorf("icon %q", c.IconURL)
	}
	if strings.Contains(c.TextSample, "location") {
		t.Errorf("script text leaked into the visible text: %q", c.TextSample)
	}
}

func TestExtractContentTextAndMentions(t *testing.T) {
	ref := &Reference{Names: []string{"WHO", "RIVM"}, Domains: []string{"who.int"}}
	tests := []struct {
		page     string
		mentions []string
	}{
		{`<title>  World   Health
Organization </title><p>The whole world</p>`, nil},
		{`<p>Message from the WHO: log in.</p>`, []string{"who"}},
		{`<p>see who.int/login</p>`, []string{"who", "who.int"}},
		{`<title>rivm</title><p>x</p>`, []string{"rivm"}},
		{`<p>rivmx</p><script>RIVM</script><style>.rivm{}</style>`, nil},
	}
	for _, tt := range tests {
		c := ExtractContent([]byte(tt.page), "https://x.example/", ref)
		if !slices.Equal(c.BrandMentions, tt.mentions) {
			t.Errorf("%q: mentions %v, want %v", tt.page, c.BrandMentions, tt.mentions)
		}
	}
	c := ExtractContent([]byte(tests[0].page), "https://x.example/", nil)
	if c.Title != "World Health Organization" || c.TextSample != "The whole world" {
		t.Errorf("title %q text %q", c.Title, c.TextSample)
	}
	if c.IconURL != "https://x.example/favicon.ico" {
		t.Errorf("default icon %q", c.IconURL)
	}
}

func TestExtractContentBounds(t *testing.T) {
	// More tokens than the extractor reads.
	page := bytes.Repeat([]byte("<b>x</b>"), maxTokens/2)
	c := ExtractContent(page, "https://x.example/", nil)
	if !c.Truncated || c.Tokens != maxTokens {
		t.Errorf("tokens %d truncated %v, want the limit %d", c.Tokens, c.Truncated, maxTokens)
	}
	// A huge title and text stay bounded.
	page = []byte("<title>" + strings.Repeat("a ", 10000) + "</title><p>" + strings.Repeat("é ", 10000))
	c = ExtractContent(page, "https://x.example/", nil)
	if len(c.Title) > maxTitle || len(c.TextSample) > maxTextSample || !strings.HasPrefix(c.TextSample, "é é") {
		t.Errorf("title %d bytes, text %d bytes", len(c.Title), len(c.TextSample))
	}
}

func TestSimilarity(t *testing.T) {
	brand := readPage(t, "brand.html")
	fp := func(page []byte) *Content { return ExtractContent(page, "https://x.example/", nil) }
	ref := fp(brand)
	if ref.Features < 50 {
		t.Fatalf("brand page has %d features", ref.Features)
	}
	reformatted := strings.NewReplacer(
		"\n", "\n\n   ",
		`action="/auth/login" method="post" class="login"`, `class="login"   method="post"
			action="/auth/login"`,
		`type="password" name="password" id="pw"`, `id="pw" name="password" type="password"`,
		"<p>", "<p >",
	).Replace(string(brand))
	copied := strings.Replace(string(brand), `action="/auth/login"`, `action="https://collect.evil.example/gate.php"`, 1)
	tests := []struct {
		name     string
		page     []byte
		min, max float64
	}{
		{"identical", brand, 1, 1},
		{"whitespace and attribute order", []byte(reformatted), 0.9, 1},
		{"copied, form action changed", []byte(copied), 0.9, 1},
		{"unrelated", readPage(t, "unrelated.html"), 0, 0.75},
		{"parking page", readPage(t, "parking.html"), 0, 0.75},
	}
	for _, tt := range tests {
		s := fp(tt.page).SimHash.Similarity(ref.SimHash)
		t.Logf("%s: %.3f", tt.name, s)
		if s < tt.min || s > tt.max {
			t.Errorf("%s: similarity %.3f, want within [%.2f, %.2f]", tt.name, s, tt.min, tt.max)
		}
	}
}

func TestSimHashJSON(t *testing.T) {
	s := SimHash(0xfedcba9876543210)
	b, _ := s.MarshalText()
	if string(b) != "fedcba9876543210" {
		t.Errorf("MarshalText %q", b)
	}
	var back SimHash
	if err := back.UnmarshalText(b); err != nil || back != s {
		t.Errorf("round trip %x %v", uint64(back), err)
	}
	if back.UnmarshalText([]byte("zz")) == nil {
		t.Error("bad hex accepted")
	}
	if SimHash(0).Similarity(^SimHash(0)) != 0 || s.Similarity(s) != 1 {
		t.Error("similarity bounds")
	}
}
