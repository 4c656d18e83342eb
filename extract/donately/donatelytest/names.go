package donatelytest

// Texts the generator draws from: accents, apostrophes, CJK, right-to-left scripts and emoji, so
// that a client's decoding and a warehouse's collation are exercised.

var firstNames = []string{
	"Amélie", "Zoë", "José", "Siobhán", "Chloé", "Łukasz", "Mia", "Noah", "Aarav", "Ngozi",
	"Yuki", "Søren", "Renée", "Björn", "Fatima", "Liam", "Olivia", "Mateo", "Ana", "Hiroshi",
	"Ife", "Darius", "Grace", "Émile", "Priya", "Tomás", "Jean-Luc", "Ahmad", "Lucía", "Wei",
}

var lastNames = []string{
	"O'Brien", "Nguyễn", "García", "Müller", "Smith", "Ólafsdóttir", "D'Angelo", "Kowalski", "Tremblay", "Okafor",
	"Tanaka", "Johansson", "Lefèvre", "van der Berg", "Haddad", "Brown", "Rossi", "Silva", "Cohen", "李",
	"Walker-Smith", "Fernández", "Dubois", "Patel", "Kim", "Ivanova", "MacLeod", "Østergaard", "Ruiz", "Chen",
}

var cities = []struct{ city, region, country string }{
	{"Toronto", "ON", "CA"}, {"Montréal", "QC", "CA"}, {"Vancouver", "BC", "CA"}, {"New York", "NY", "US"},
	{"Austin", "TX", "US"}, {"San José", "CA", "US"}, {"Chicago", "IL", "US"}, {"London", "", "GB"},
	{"Dublin", "", "IE"}, {"Berlin", "", "DE"}, {"Sydney", "NSW", "AU"}, {"Paris", "", "FR"},
}

var streets = []string{"Main St", "Rue Sainte-Catherine", "Elm Ave", "King's Rd", "Queen St W", "Oak Lane", "Baker St"}

var campaignTitles = []string{
	"Annual Fund Drive", "Walk for Hope 🌱", "Niños Primero", "Spring Gala — 2026", "Clean Water Now",
	"Run for 中文 Schools", "Winter Coat Drive ❄️", "Éducation pour tous", "Giving Tuesday", "Library Builders",
	"Ride to Conquer", "O'Malley Memorial Scholarship", "Food Bank Holiday Appeal", "Shelter Rebuild", "Arts for All",
}

var comments = []string{
	"Keep up the great work!",
	"In memory of my grandmother 💐",
	"Merci pour tout ce que vous faites.",
	"For the kids — with love",
	"¡Gracias!",
	"Happy to help \"again\"",
	"頑張ってください",
	"Line one\nline two",
	"شكرا لكم",
	"Proud monthly donor 🙌",
	"Go team!",
	"",
}

var editedComments = []string{
	"Updated: keep up the great work!",
	"Edited by donor ✏️",
	"Please use this where it is needed most.",
	"In honour of Zoë's graduation 🎓",
}

var honorees = []string{"In memory of Rosa Parks-López", "In honour of Mom", "For Grandpa Józef", "For the Tanaka family"}

var notes = []string{"Internal note", "Called donor to thank", "Matched by employer", "Check #1042 deposited"}

var formTitles = []string{"Main Form", "Monthly Giving Form", "Event Registration Donation"}

var ecardTemplates = []string{"birthday", "sympathy", "thank_you", "holiday"}

var utmSources = []string{"newsletter", "facebook", "google", "email_receipt", "qr_code"}

var employers = []string{"Acme Corp", "Initech", "Société Générale", "Globex", ""}
