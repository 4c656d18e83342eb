package crowdchangetest

// The word lists the generator draws from. They carry the text a real organisation's data has:
// accents (é, ñ, ü), apostrophes (O'Brien), CJK (中文) and emoji, so that every layer of ccsync is
// exercised with them.

var (
	firstNames = []string{"John", "Zoë", "José", "Renée", "François", "Jürgen", "Siobhán", "Mei",
		"Björn", "Chloé", "Ñusta", "伟", "Émilie", "Seán", "Aroha", "Priya", "Łucja", "Mary-Kate"}
	lastNames = []string{"Snow", "O'Brien", "Muñoz", "Müller", "Nguyễn", "D'Angelo", "Tremblay",
		"Côté", "王", "Smith", "García", "Kowalski", "Ng", "Østergaard", "MacDonald", "Lefèvre"}
	titles        = []string{"Mr.", "Ms.", "Mrs.", "Dr.", "Mx."}
	businessNames = []string{"Company Inc", "Boulangerie Côté", "O'Brien & Sons", "Müller GmbH",
		"中文 Trading Co.", "Niños Felices S.A.", "Rocket Labs 🚀"}
	comments = []string{"Happy to contribute to a worthy cause!", "Go team! 🎉",
		"In memory of grand-père — merci 💙", "For O'Brien's ride", "加油！中文", "¡Vamos, Niños!",
		"Für die Kinder 🙌", "With love ❤️ from the Müller family", "Keep going, you've got this!",
		"Bonne chance à l'équipe 🚴", "Line one\nline two, \"quoted\""}
	promoCodes = []string{"PROMO100", "SPRING10", "MERCI5", "GALA2024"}
	streets    = []string{"100 Main Street", "12 rue Sainte-Catherine", "5 Königsallee",
		"221B Baker Street", "1600 chemin de l'Église", "42 Wallaby Way", "8 Calle Niño Jesús"}
	teamNames = []string{"Les Castors", "O'Brien's Riders", "Die Füchse", "Los Niños", "龙队",
		"Rocket 🚀", "Team A", "Équipe Québec"}
	tags = []string{"gala", "run", "2024", "ride", "été", "中文", "youth"}

	apparelNames     = []string{"T-shirt", "Hoodie", "Casquette", "Socks 🧦"}
	apparelOptions   = []string{"XL - Blue", "M - Rouge", "S - Grün", "L - Black"}
	apparelPrices    = []int64{2499, 2995, 3500, 4500}
	eventNames       = []string{"Bike ride.", "5 km Run", "Marche de l'espoir", "Gala Dinner", "Course des Niños"}
	eventOptions     = []string{"200 KM", "100 KM", "Adult", "Enfant", "VIP table"}
	regPrices        = []int64{2500, 5000, 7500, 15000, 35000}
	aliasNames       = []string{"Family's Friend", "Le Grand Fromage", "Anonymous 🙈"}
	ticketNames      = []string{"General admission", "VIP", "Entrée générale"}
	ticketOptions    = []string{"Section C", "Balcon", "Floor", "Row 12"}
	ticketPrices     = []int64{1998, 2500, 4000, 10000}
	cardNames        = []string{"Happy New Year - 1", "Merci !", "Thinking of you 💐", "Felicidades"}
	cardPrices       = []int64{0, 199, 299}
	cardMessages     = []string{"Happy New Year!", "Merci pour tout 💙", "Thinking of you.", "¡Feliz cumpleaños!"}
	methods          = []string{"email", "sms", "mail"}
	deliveryStatuses = []string{"na", "pending", "sent", "delivered", "opened", "error"}
	tributeTypes     = []string{"In honor of", "In memory of"}
	feeNames         = []string{"Custom fee", "Frais de dossier", "Processing fee"}
	feePrices        = []int64{250, 500, 1595}
	sponsorNames     = []string{"Platinum Package", "Gold Package", "Partenaire Argent"}
	sponsorPrices    = []int64{50000, 100000, 250000}
	roundDonations   = []int64{1000, 2000, 2500, 5000, 10000, 25000, 50000}
	selfDonations    = []int64{1000, 2500, 5000, 10000, 2550}
	goals            = []int64{1000000, 2500000, 5000000, 10000000, 50000050}
	questions        = []string{"Phone Number", "T-shirt size", "Comment avez-vous entendu parler de nous ?",
		"Dietary restrictions", "¿Cómo te enteraste?", "Company name", "Emergency contact"}
	answers = []string{"555-123-4567", "M", "Végétarien", "O'Brien & Sons", "Par un ami 👋", "中文",
		"Ninguna", "XL", "<b>not html</b>"}
	processors = []string{"Stripe", "Stripe", "Stripe", "PayPal", "Moneris"}
	cardTypes  = []string{"Visa", "Mastercard", "Amex", "Discover"}
)

// place is a city with its state and postal code.
type place struct{ city, state, country, postal string }

var places = []place{
	{"Toronto", "ON", "CA", "M5V 2T6"}, {"Montréal", "QC", "CA", "H2X 1Y4"},
	{"Québec", "QC", "CA", "G1R 4P5"}, {"Vancouver", "BC", "CA", "V6B 1A1"},
	{"New York", "NY", "US", "10001"}, {"Austin", "TX", "US", "73301"},
	{"San José", "CA", "US", "95112"}, {"Sydney", "NSW", "AU", "2000"},
	{"Melbourne", "VIC", "AU", "3000"}, {"Paris", "IDF", "FR", "75011"},
	{"Dublin", "D", "IE", "D02 X285"}, {"München", "BY", "DE", "80331"},
}

// fundSpec is one campaign of the sandbox's organisation.
type fundSpec struct {
	id                 int64
	name, currency     string
	language, location string
	campus, office     string // "" → null
	start, end         string
	template           int64
	tags               []string
}

// fundraisers is the organisation's campaigns; a transaction's currency is its campaign's.
var fundraisers = []fundSpec{
	{100, "Ride for Research", "CAD", "en", "100 Main Street, Toronto, ON", "University of Western Ontario", "Sigma Delta Tau", "2020-01-01 08:00:00", "2030-12-31 23:59:59", 1, []string{"ride", "2024"}},
	{101, "Gala Night", "USD", "en", "Grand Ballroom, New York, NY", "", "", "2020-03-01 18:00:00", "2030-03-01 23:00:00", 2, nil},
	{102, "Course de l'espoir", "CAD", "fr", "Parc La Fontaine, Montréal, QC", "Université de Montréal", "", "2020-05-01 07:00:00", "2030-05-01 17:00:00", 1, []string{"run", "été"}},
	{103, "Walk for 中文 Schools", "AUD", "en", "42 Wallaby Way, Sydney", "", "", "2020-02-01 09:00:00", "2030-02-01 12:00:00", 3, []string{"中文"}},
	{104, "Niños Primero 🌱", "USD", "en", "8 Calle Niño Jesús, San José, CA", "", "Gamma Psi", "2020-06-01 00:00:00", "2030-06-30 00:00:00", 2, []string{"youth"}},
	{105, "Lauf für Kinder", "EUR", "en", "Englischer Garten, München", "", "", "2020-04-01 08:00:00", "2030-04-01 14:00:00", 3, nil},
	{106, "O'Brien Family Fund", "EUR", "en", "Dublin", "Trinity College", "", "2020-01-15 00:00:00", "2030-01-15 00:00:00", 1, []string{"gala"}},
	{107, "Défi Québec", "CAD", "fr", "Québec, QC", "", "", "2020-09-01 00:00:00", "2030-09-01 00:00:00", 2, []string{"ride", "été"}},
}

// fundIndex returns the catalogue index of a campaign id.
func fundIndex(id int64) (int, bool) {
	for i, f := range fundraisers {
		if f.id == id {
			return i, true
		}
	}
	return 0, false
}

// fundCustomData is the number of custom answers a campaign carries.
func fundCustomData(k int) int { return k % 3 }

// currencySymbol is the symbol of a currency, as POST /v2/client/transactions answers it.
func currencySymbol(cur string) string {
	if cur == "EUR" {
		return "€"
	}
	return "$"
}
