"""Words the demo data is made of: names, places, products, tags, messages of "Brightpath Studio".

Plain constants, no logic; :mod:`ontraport_pandas.sandbox.demo` and
:mod:`ontraport_pandas.sandbox.demo_catalog` draw from them.
"""

from __future__ import annotations

FIRST_NAMES = (
    "James Mary John Patricia Robert Jennifer Michael Linda William Elizabeth David Barbara Richard Susan "
    "Joseph Jessica Thomas Sarah Charles Karen Christopher Lisa Daniel Nancy Matthew Betty Anthony Sandra "
    "Mark Ashley Donald Kimberly Steven Emily Andrew Donna Paul Michelle Joshua Carol Kenneth Amanda Kevin "
    "Melissa Brian Deborah George Stephanie Timothy Rebecca Ronald Laura Jason Sharon Edward Cynthia Jeffrey "
    "Kathleen Ryan Amy Jacob Angela Gary Shirley Nicholas Anna Eric Brenda Jonathan Pamela Stephen Emma "
    "Larry Nicole Justin Helen Scott Samantha Brandon Katherine Benjamin Christine Samuel Rachel Gregory "
    "Carolyn Alexander Janet Patrick Maria Frank Olivia Raymond Heather Jack Diane Dennis Julie Jerry Joyce "
    "Tyler Victoria Aaron Kelly Jose Christina Adam Lauren Nathan Joan Henry Evelyn Zachary Judith Douglas "
    "Megan Peter Andrea Kyle Cheryl Noah Hannah Ethan Jacqueline Jeremy Martha Walter Gloria Christian Teresa "
    "Keith Ann Roger Sara Terry Madison Austin Frances Sean Kathryn Gerald Janice Carl Jean Harold Abigail "
    "Dylan Alice Arthur Judy Lawrence Sophia Jordan Grace Jesse Denise Bryan Amber Billy Doris Bruce Marilyn "
    "Gabriel Danielle Joe Beverly Logan Isabella Alan Theresa Juan Diana Albert Natalie Willie Brittany "
    "Elijah Charlotte Wayne Marie Randy Kayla Vincent Alexis Mason Lori Liam Chloe Wei Mei Hiroshi Yuki "
    "Priya Arjun Fatima Omar Aisha Mohammed Chen Lin Sofia Mateo Lucia Diego Camila Santiago Valentina "
    "Siobhan Liam Aoife Cian Mia Lachlan Harper Oliver Ava Isla Archie Freya Noor Kai Zara"
).split()
LAST_NAMES = (
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez Gonzalez "
    "Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris Sanchez Clark "
    "Ramirez Lewis Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill Flores Green Adams "
    "Nelson Baker Hall Rivera Campbell Mitchell Carter Roberts Gomez Phillips Evans Turner Diaz Parker "
    "Cruz Edwards Collins Reyes Stewart Morris Morales Murphy Cook Rogers Gutierrez Ortiz Morgan Cooper "
    "Peterson Bailey Reed Kelly Howard Ramos Kim Cox Ward Richardson Watson Brooks Chavez Wood James "
    "Bennett Gray Mendoza Ruiz Hughes Price Alvarez Castillo Sanders Patel Myers Long Ross Foster Jimenez "
    "Powell Jenkins Perry Russell Sullivan Bell Coleman Butler Henderson Barnes Gonzales Fisher Vasquez "
    "Simmons Romero Jordan Patterson Alexander Hamilton Graham Reynolds Griffin Wallace Moreno West Cole "
    "Hayes Bryant Herrera Gibson Ellis Tran Medina Aguilar Stevens Murray Ford Castro Marshall Owens "
    "Harrison Fernandez McDonald Woods Washington Kennedy Wells Vargas Henry Chen Freeman Webb Tucker "
    "Guzman Burns Crawford Olson Simpson Porter Hunter Gordon Mendez Silva Shaw Snyder Mason Dixon Munoz "
    "Hunt Hicks Holmes Palmer Wagner Black Robertson Boyd Rose Stone Salazar Fox Warren Mills Meyer Rice "
    "O'Brien O'Connor MacLeod Nakamura Tanaka Singh Kumar Shah Wang Zhang Liu Novak Kowalski Schmidt "
    "Dubois Rossi Van der Berg"
).split()
PLACEHOLDER_NAMES = ("", "test", "N/A", "asdf", "Test", "xxx", "-", "none")
FREE_DOMAINS = (
    "gmail.com",
    "yahoo.com",
    "hotmail.com",
    "outlook.com",
    "icloud.com",
    "aol.com",
    "comcast.net",
)
FREE_WEIGHTS = (40, 12, 9, 9, 7, 3, 2)
STREETS = (
    "Main Oak Maple Cedar Pine Elm Washington Lake Hill Park View Sunset Ridge River Highland Church "
    "Mill Spring Forest Meadow Lincoln Jefferson Madison Franklin Chestnut Walnut Willow Valley Bay Harbor"
).split()
STREET_SUFFIXES = ("St", "Ave", "Rd", "Blvd", "Dr", "Ln", "Way", "Ct", "Pl", "Street", "Avenue", "Road")
US_CITIES = (
    ("New York", "NY", "100", "212"),
    ("Brooklyn", "NY", "112", "718"),
    ("Los Angeles", "CA", "900", "213"),
    ("San Diego", "CA", "921", "619"),
    ("San Francisco", "CA", "941", "415"),
    ("Chicago", "IL", "606", "312"),
    ("Houston", "TX", "770", "713"),
    ("Austin", "TX", "787", "512"),
    ("Dallas", "TX", "752", "214"),
    ("Phoenix", "AZ", "850", "602"),
    ("Philadelphia", "PA", "191", "215"),
    ("Seattle", "WA", "981", "206"),
    ("Denver", "CO", "802", "303"),
    ("Boston", "MA", "021", "617"),
    ("Miami", "FL", "331", "305"),
    ("Orlando", "FL", "328", "407"),
    ("Atlanta", "GA", "303", "404"),
    ("Portland", "OR", "972", "503"),
    ("Nashville", "TN", "372", "615"),
    ("Minneapolis", "MN", "554", "612"),
    ("Charlotte", "NC", "282", "704"),
    ("Salt Lake City", "UT", "841", "801"),
    ("Santa Barbara", "CA", "931", "805"),
    ("Providence", "RI", "029", "401"),
    ("Hartford", "CT", "061", "860"),
    ("Newark", "NJ", "071", "973"),
)
AU_CITIES = (
    ("Sydney", "NSW", "2000"),
    ("Melbourne", "VIC", "3000"),
    ("Brisbane", "QLD", "4000"),
    ("Gold Coast", "QLD", "4217"),
    ("Perth", "AU_WA", "6000"),
    ("Adelaide", "SA", "5000"),
    ("Hobart", "TAS", "7000"),
    ("Darwin", "AU_NT", "0800"),
    ("Canberra", "ACT", "2600"),
)
CA_CITIES = (
    ("Toronto", "ON", "M5V 2T6"),
    ("Vancouver", "BC", "V6B 1A1"),
    ("Montreal", "QC", "H2X 1Y4"),
    ("Calgary", "AB", "T2P 2M5"),
    ("Ottawa", "ON", "K1P 5J2"),
)
GB_CITIES = (
    ("London", "SW1A 1AA"),
    ("Manchester", "M1 1AE"),
    ("Bristol", "BS1 4DJ"),
    ("Edinburgh", "EH1 1YZ"),
)
BAD_STATES = ("Calif.", "XX", "ny", "Texas", "N/A", "fl", "Mass", "ca ")
TIMEZONES = {
    "NY": "America/New_York",
    "MA": "America/New_York",
    "PA": "America/New_York",
    "FL": "America/New_York",
    "GA": "America/New_York",
    "NC": "America/New_York",
    "RI": "America/New_York",
    "CT": "America/New_York",
    "NJ": "America/New_York",
    "IL": "America/Chicago",
    "TX": "America/Chicago",
    "TN": "America/Chicago",
    "MN": "America/Chicago",
    "CO": "America/Denver",
    "UT": "America/Denver",
    "AZ": "America/Phoenix",
    "CA": "America/Los_Angeles",
    "WA": "America/Los_Angeles",
    "OR": "America/Los_Angeles",
}
TITLES = (
    "Owner",
    "Marketing Manager",
    "Personal Trainer",
    "Office Manager",
    "CEO",
    "Nurse",
    "Teacher",
    "Software Engineer",
    "Sales Director",
    "Student",
    "Consultant",
    "Physiotherapist",
    "Accountant",
    "Yoga Instructor",
    "Operations Lead",
)
COMPANY_A = (
    "Blue Ridge Summit Northwind Evergreen Lakeside Silver Oak Harbor Pinnacle Redwood Golden Gate Cedar "
    "Apex Bright Horizon Granite Riverbend Sunrise Iron Clearwater Maple Keystone Liberty Coastal Prairie"
).split()
COMPANY_B = (
    "Fitness Wellness Health Physio Athletics Yoga Nutrition Coaching Performance Sports Medical Dental "
    "Consulting Logistics Software Realty Capital Partners Studios Labs Outfitters Foods Clinic Academy"
).split()
COMPANY_C = ("LLC", "Inc.", "Co.", "Group", "Pty Ltd", "", "", "Ltd", "Corp.")
INDUSTRIES = (
    "Health & Fitness",
    "Healthcare",
    "Education",
    "Software",
    "Real Estate",
    "Retail",
    "Hospitality",
    "Professional Services",
    "Manufacturing",
    "Non-profit",
)
CONTACT_TAGS = (
    "Lead",
    "Customer",
    "VIP",
    "Newsletter",
    "Webinar 2026",
    "Webinar 2025",
    "Free Trial",
    "Cart Abandoned",
    "Bootcamp Alumni",
    "Coaching Client",
    "Yoga",
    "Nutrition",
    "Referral Partner",
    "Affiliate",
    "Cold Lead",
    "Hot Lead",
    "Do Not Contact",
    "Event: Summit 2025",
    "Event: Summit 2026",
    "Podcast Listener",
    "Instagram",
    "Facebook Ad",
    "Reactivation",
    "Beta Tester",
    "Staff",
)
CONTACT_TAG_WEIGHTS = (30, 22, 4, 28, 10, 8, 9, 6, 5, 6, 8, 7, 2, 2, 8, 4, 1, 3, 4, 3, 5, 6, 3, 1, 0.3)
DEAL_TAGS = ("Inbound", "Outbound", "Upsell", "Renewal")
COMPANY_TAGS = ("Partner", "Enterprise", "Churn Risk")
MEMBERSHIP_TAGS = ("Founding Member", "Corporate Plan")
PRODUCTS = (
    ("Monthly Membership", 49.0),
    ("Annual Membership", 499.0),
    ("10-Class Pass", 150.0),
    ("Drop-in Class", 20.0),
    ("Personal Training Session", 85.0),
    ("Personal Training 10-Pack", 750.0),
    ("Nutrition Coaching (3 months)", 297.0),
    ("Online Yoga Course", 97.0),
    ("Strength Foundations eBook", 19.99),
    ("Bootcamp Season Pass", 349.0),
    ("Meal Plan Add-on", 29.0),
    ("Brightpath Water Bottle", 16.5),
    ("Brightpath Hoodie", 59.0),
    ("Resistance Band Set", 34.95),
    ("Mindfulness Workshop", 45.0),
    ("Corporate Wellness Package", 2500.0),
    ("Coaching Mastermind", 1997.0),
    ("Retreat Deposit", 500.0),
    ("Gift Card", 100.0),
    ("Summit 2026 Ticket", 399.0),
)
TASK_SUBJECTS = (
    "Follow up call",
    "Send welcome pack",
    "Book intro session",
    "Check in after first class",
    "Renewal reminder call",
    "Collect payment details",
    "Schedule assessment",
    "Ask for a testimonial",
    "Confirm retreat booking",
    "Review nutrition plan",
)
NOTE_TEXTS = (
    "Called, left voicemail.",
    "Interested in the annual plan but wants to try a class first.",
    "Asked about corporate rates for her team of 12.",
    "Prefers evening sessions. Knee injury last year - check with trainer.",
    "Paid by bank transfer, marked manually.",
    "Unsubscribed from newsletter by phone request.",
    "Referred by a friend; send referral thank-you.",
    "Wants to pause membership over the summer.",
    "Complained about class booking app; escalated to support.",
    "Great progress at 6-week check-in!",
    "No answer x3. Try email instead.",
    "Upgraded to Gold after the webinar.",
)
GOALS = (
    "Lose 10 lbs before the wedding",
    "Run a half marathon",
    "Get stronger, fix posture\nDesk job, back pain",
    "Stress relief",
    "Train for Tough Mudder",
    "Eat better, more energy for the kids",
    "Recover from knee surgery (ACL)",
    "Build a consistent yoga practice",
    "",
)
USERS = (
    ("Sam", "Carter", "sam@brightpath-studio.com", "1"),
    ("Priya", "Nair", "priya@brightpath-studio.com", "2"),
    ("Diego", "Alvarez", "diego@brightpath-studio.com", "3"),
    ("Hannah", "Becker", "hannah@brightpath-studio.com", "3"),
    ("Tom", "O'Neill", "tom@brightpath-studio.com", "4"),
)
SEQUENCES = (
    "Welcome Series",
    "Free Trial Nurture",
    "Webinar Follow-up",
    "Win-back",
    "Renewal Reminders",
    "Onboarding: New Members",
    "Nutrition Tips (weekly)",
    "Cart Abandonment",
)
CAMPAIGNS = (
    "Lead Magnet: 7-Day Reset",
    "Trial to Member",
    "Webinar Funnel 2026",
    "Summit 2026 Launch",
    "Post-Purchase Onboarding",
    "Birthday Offer",
    "Re-engagement",
    "Referral Program",
    "Corporate Wellness Outreach",
    "Failed Payment Recovery",
)
MESSAGES = (
    ("Welcome Email", "e-mail", "Welcome to Brightpath, [First Name]!"),
    ("Trial Day 1", "e-mail", "Your free trial starts today"),
    ("Trial Day 5", "e-mail", "How's your trial going?"),
    ("Webinar Reminder", "e-mail", "We go live in 1 hour"),
    ("Webinar Replay", "e-mail", "The replay is up (for 48 hours)"),
    ("Renewal Notice", "e-mail", "Your membership renews soon"),
    ("Payment Failed", "e-mail", "Action needed: update your card"),
    ("Birthday", "e-mail", "Happy birthday from Brightpath"),
    ("Newsletter Template", "Template", "Brightpath Monthly"),
    ("Class Reminder SMS", "sms", ""),
    ("Trial SMS", "sms", ""),
    ("Follow-up Call Task", "Task", "Call [First Name]"),
    ("Welcome Pack Task", "Task", "Send welcome pack"),
    ("Win-back Offer", "e-mail", "We miss you - here's 30% off"),
    ("Receipt", "e-mail", "Your Brightpath receipt"),
)
RULES = (
    "Tag buyers as Customer",
    "Remove Lead tag on purchase",
    "Notify owner on VIP purchase",
    "Add webinar registrants to follow-up",
    "Pause sequence on unsubscribe",
    "Assign round-robin owner",
    "Start win-back after 90 days inactive",
    "Tag cart abandoners",
    "Update score on open",
    "Move trial to member",
    "Flag failed payments",
    "Referral thank-you",
)
FORMS = (
    ("Free Trial Signup", "11"),
    ("Newsletter Signup", "11"),
    ("Webinar Registration", "11"),
    ("Contact Us", "10"),
    ("Corporate Wellness Enquiry", "10"),
    ("Summit 2026 Waitlist", "11"),
)
OFFERS = (
    "Monthly Membership",
    "Annual Membership (save 15%)",
    "Trial + Class Pass",
    "Coaching Bundle",
    "Bootcamp Early Bird",
    "Summit Ticket + Hoodie",
    "Corporate Package",
    "Black Friday 2025",
)

#: Names of the tracking objects (types 75-79: campaign, lead source, medium, content, term).
TRACKING = {
    75: ("Spring Promo", "Summer Challenge", "Black Friday", "New Year Kickstart"),
    76: ("Google", "Facebook", "Instagram", "Newsletter", "Referral", "Direct"),
    77: ("cpc", "email", "social", "organic", "referral"),
    78: ("banner-a", "banner-b", "video-1", "story-ad"),
    79: ("yoga classes", "personal trainer", "gym near me", "pilates"),
}

#: Demo coupons: (name, type, discount type, discount value, shared code or "").
COUPONS = (
    ("Spring 20", "group", "percent", "20", "SPRING20"),
    ("Ten Off", "group", "flat", "10.00", "TENOFF"),
    ("Free First Week", "group", "trial", "7", "FIRSTWEEK"),
    ("VIP Thank You", "personal", "percent", "25", ""),
    ("Win-back 30", "personal", "percent", "30", ""),
)
