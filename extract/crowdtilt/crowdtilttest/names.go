package crowdtilttest

// Texts the generator draws from: accents, apostrophes, CJK, right-to-left scripts and emoji, so
// that a client's decoding and a warehouse's collation are exercised.

var firstNames = []string{
	"Amélie", "Zoë", "José", "Siobhán", "Chloé", "Łukasz", "Mia", "Noah", "Aarav", "Ngozi",
	"Yuki", "Søren", "Renée", "Björn", "Fatima", "Liam", "Olivia", "Mateo", "Ana", "Hiroshi",
	"Ife", "Darius", "Grace", "Émile", "Priya", "Tomás", "Jean-Luc", "Ahmad", "Lucía", "伟",
}

var lastNames = []string{
	"O'Brien", "Nguyễn", "García", "Müller", "Smith", "Ólafsdóttir", "D'Angelo", "Kowalski", "Tremblay", "Okafor",
	"Tanaka", "Johansson", "Lefèvre", "van der Berg", "حداد", "Brown", "Rossi", "Silva", "Cohen", "李",
	"Walker-Smith", "Fernández", "Dubois", "Patel", "Kim", "Иванова", "MacLeod", "Østergaard", "Ruiz", "Chen",
}

var campaignTitles = []string{
	"Halloween Awesome Fest", "Lake Tahoe Cabin Weekend 🏔️", "Wedding Gift for Ana & José", "Bachelor Party — Vegas",
	"Mission Trip to Guatemala", "Clean Water Well", "Team Jerseys 2013", "Ramen Night 🍜", "Birthday Gift for Zoë",
	"Spring Break Rental", "Community Garden 🌱", "中文 School Books", "Éducation pour tous", "Office Espresso Machine ☕",
	"Dog Park Benches", "O'Malley Memorial Scholarship", "Food Bank Holiday Drive", "Robotics Club Trip", "Ski Trip ❄️",
	"Shelter Rebuild", "Concert Tickets — Row 5", "Graduation Party 🎓", "Marathon for Hope", "Library Builders",
}

var editedTitles = []string{
	"(updated) ", "✏️ ", "Final push: ", "Nouveau : ",
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
	"",
}

var rewards = []string{"T-shirt", "Sticker pack", "Signed poster", "Early access", "Thank-you card ✉️", "VIP seat"}

var descriptions = []string{
	"Help us get there!",
	"Every dollar counts — merci !",
	"Tickets are non-refundable after the tilt.",
	"Chip in for the group 🎉",
}

var cardTypes = []struct {
	name, number, code string
}{
	{"VISA card", "4111111111111111", "123"},
	{"VISA card", "4012888888881881", "456"},
	{"Mastercard card", "5105105105105100", "789"},
	{"Mastercard card", "5555555555554444", "321"},
	{"American Express card", "378282246310005", "1234"},
	{"Discover card", "6011111111111117", "654"},
}
