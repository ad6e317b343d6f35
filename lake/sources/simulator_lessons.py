"""The text of the simulated courses' lessons: a short, original Markdown lesson per skill.

The simulator's catalogue names its lessons after skills ("Lesson 1.2: variables"); without a
body the tutor has nothing to ground an answer in, so the demo would only ever say that it
does not know. Each skill has three parts, shared out among a course's lessons on that skill,
so that every part is taught and the lessons of one skill teach different things. Written for
LearnLake's demo, not taken from a textbook; a real course replaces them with its own content.
"""

LESSONS: dict[str, tuple[str, ...]] = {
    # Python Foundations
    "variables": (
        ("## What a variable is\n\nA variable is a name that refers to a value stored in memory. The assignment "
        "statement `x = 5` creates the name `x` and binds it to the integer 5; reading `x` later gives that value "
        "back. A variable has no fixed type in Python: the value it refers to has one."),
        ("## Assignment and reassignment\n\nAssigning again moves the name to a new value: after `count = 1` and "
        "`count = count + 1`, `count` refers to 2. The right-hand side is evaluated first, then the name is bound. "
        "`a, b = b, a` swaps two values in one statement."),
        ("## Naming variables\n\nNames may hold letters, digits and underscores but may not start with a digit, and "
        "they are case sensitive: `total` and `Total` are different variables. Python style uses lower case words "
        "joined by underscores (`max_speed`). Keywords such as `for` or `class` cannot be names."),
    ),
    "conditionals": (
        ("## The if statement\n\nAn `if` statement runs a block of code only when its condition is true. The "
        "condition is an expression that evaluates to `True` or `False`, such as `age >= 18`. The block is the "
        "indented code under the line that ends with a colon."),
        ("## else and elif\n\n`else` gives the block that runs when the condition is false. `elif` (else if) tests "
        "further conditions in order; the first true branch runs and the others are skipped. Use a chain of "
        "`if`, `elif` and `else` to choose exactly one of several actions."),
        ("## Boolean operators\n\nConditions combine with `and`, `or` and `not`. `a and b` is true only when both "
        "are true; `a or b` when at least one is. Comparisons (`==`, `!=`, `<`, `<=`, `>`, `>=`) produce the "
        "Boolean values that conditions test. Remember that `=` assigns and `==` compares."),
    ),
    "loops": (
        ("## When to use a loop\n\nUse a loop when the same steps must run many times: once for every item of a "
        "collection, or until something becomes true. A loop avoids copying the same code again and again, and "
        "works for any number of repetitions."),
        ("## The for loop\n\nA `for` loop visits each element of a sequence in turn: `for name in names:` runs its "
        "block once per name. `range(n)` gives the numbers 0 to n - 1, so `for i in range(5):` repeats five "
        "times. Use `for` when you know what you are iterating over."),
        ("## The while loop\n\nA `while` loop repeats its block as long as its condition stays true, so it suits "
        "repetition whose count is not known in advance, such as reading input until the user types `quit`. "
        "Something in the block must eventually make the condition false, or the loop never ends. `break` leaves "
        "a loop early and `continue` skips to the next repetition."),
    ),
    "functions": (
        ("## Defining a function\n\nA function is a named block of code that performs one task. `def area(width, "
        "height):` defines a function with two parameters; calling `area(3, 4)` runs its body with those "
        "arguments. Functions let you reuse code and give a task a clear name."),
        ("## Return values\n\nThe `return` statement ends a function and sends a value back to the caller: "
        "`return width * height`. A function without `return` gives back `None`. The returned value can be "
        "stored in a variable or used directly in an expression."),
        ("## Parameters and scope\n\nParameters are the names in the definition; arguments are the values passed "
        "in a call. Default values (`def greet(name='world'):`) make an argument optional. Variables created "
        "inside a function are local: they exist only while the function runs and are invisible outside it."),
    ),
    "lists": (
        ("## What a list is\n\nA list is an ordered, changeable collection of values written in square brackets: "
        "`scores = [90, 75, 88]`. Elements are numbered from 0, so `scores[0]` is 90 and `scores[-1]` is the "
        "last element. `len(scores)` gives the number of elements."),
        ("## Changing a list\n\n`append(x)` adds an element at the end, `insert(i, x)` at position i, `remove(x)` "
        "deletes the first element equal to x and `pop()` removes and returns the last one. Assigning to an "
        "index (`scores[1] = 80`) replaces an element, because lists are mutable."),
        ("## Slicing and iterating\n\nA slice `scores[1:3]` gives a new list of the elements at positions 1 and 2. "
        "A `for` loop visits the elements in order, and `sorted(scores)` returns a sorted copy. A list "
        "comprehension such as `[s * 2 for s in scores]` builds a new list from an old one."),
    ),
    "dictionaries": (
        ("## What a dictionary is\n\nA dictionary maps keys to values: `ages = {'Ada': 36, 'Alan': 41}`. You look "
        "a value up by its key, `ages['Ada']`, instead of by position. Keys must be unique and immutable, such "
        "as strings or numbers."),
        ("## Adding and reading entries\n\nAssigning to a key adds or replaces an entry: `ages['Grace'] = 85`. "
        "Reading a missing key raises a `KeyError`; `ages.get('Linus', 0)` returns a default instead. `in` "
        "tests whether a key is present, and `del ages['Alan']` removes an entry."),
        ("## Iterating over a dictionary\n\n`for name in ages:` visits the keys; `ages.values()` gives the values "
        "and `ages.items()` gives key and value pairs, as in `for name, age in ages.items():`. Dictionaries keep "
        "the order in which keys were inserted."),
    ),
    # Statistics for Data Science
    "descriptive statistics": (
        ("## Measures of centre\n\nThe mean is the sum of the values divided by how many there are; to compute the "
        "mean of a list in Python, use `sum(values) / len(values)` or `statistics.mean(values)`. The median is "
        "the middle value once sorted and is not pulled by outliers; the mode is the most frequent value."),
        ("## Measures of spread\n\nThe variance is the average squared distance of the values from their mean. The "
        "standard deviation is the square root of the variance, so it is in the same units as the data, which "
        "makes it easier to read: that is the difference between variance and standard deviation. The range is "
        "the largest value minus the smallest."),
        ("## Quartiles and outliers\n\nQuartiles split sorted data into four equal parts; the interquartile range "
        "(IQR) is the third quartile minus the first and holds the middle half of the data. A value more than "
        "1.5 IQR beyond the quartiles is often flagged as an outlier. A box plot draws these summaries."),
    ),
    "probability": (
        ("## Probability of an event\n\nA probability is a number between 0 and 1 that says how likely an event "
        "is: 0 means impossible and 1 certain. When outcomes are equally likely, the probability of an event is "
        "the number of favourable outcomes divided by the number of possible outcomes."),
        ("## Combining events\n\nFor independent events the probability that both happen is the product of their "
        "probabilities. For events that cannot happen together the probability that either happens is the sum. "
        "The complement rule says P(not A) = 1 - P(A)."),
        ("## Conditional probability\n\nThe conditional probability P(A | B) is the probability of A given that B "
        "happened: P(A and B) / P(B). Bayes' theorem turns it around, P(B | A) = P(A | B) P(B) / P(A), which is "
        "how a test result updates the probability of a condition."),
    ),
    "distributions": (
        ("## What a distribution is\n\nA probability distribution says which values a random variable can take and "
        "how likely each is. Discrete distributions, such as the binomial, give probabilities of counts; "
        "continuous ones, such as the normal, give densities over a range of values."),
        ("## The normal distribution\n\nThe normal distribution is the symmetric bell curve set by its mean and "
        "standard deviation. About 68 % of values lie within one standard deviation of the mean and about 95 % "
        "within two. A z-score, (x - mean) / standard deviation, says how many standard deviations a value is "
        "from the mean."),
        ("## The binomial distribution\n\nThe binomial distribution counts the successes in n independent trials "
        "that each succeed with probability p, such as heads in ten coin flips. Its mean is n p and its variance "
        "n p (1 - p)."),
    ),
    "sampling": (
        ("## Samples and populations\n\nA population is every unit you want to learn about; a sample is the part "
        "you measure. A random sample gives every unit the same chance of being chosen, which keeps the sample "
        "representative and avoids selection bias."),
        ("## Sampling distributions\n\nA statistic such as the sample mean varies from sample to sample; its "
        "sampling distribution describes that variation. The central limit theorem says the sample mean is close "
        "to normally distributed for large samples, whatever the shape of the population."),
        ("## Standard error\n\nThe standard error of the mean is the standard deviation divided by the square root "
        "of the sample size. Larger samples give smaller standard errors and so more precise estimates: four "
        "times the sample halves the standard error."),
    ),
    "hypothesis testing": (
        ("## What a hypothesis test tells you\n\nA hypothesis test tells you whether the data are consistent with "
        "a null hypothesis, usually the claim of no effect or no difference. It measures how surprising the "
        "observed result would be if the null hypothesis were true."),
        ("## p-values\n\nThe p-value is the probability, assuming the null hypothesis is true, of a result at "
        "least as extreme as the one observed. A p-value below the significance level (often 0.05) leads you to "
        "reject the null hypothesis. It is not the probability that the null hypothesis is true."),
        ("## Errors in testing\n\nA type I error rejects a null hypothesis that is true; its rate is the "
        "significance level. A type II error fails to reject a false one. The power of a test, one minus the "
        "type II error rate, grows with the sample size and the size of the effect."),
    ),
    "linear regression": (
        ("## The regression line\n\nLinear regression fits a straight line y = a + b x to data. The slope b is the "
        "expected change in y for a one-unit increase in x, and the intercept a is the expected y when x is 0. "
        "Least squares chooses the line that minimises the sum of squared residuals."),
        ("## Residuals\n\nA residual is an observed value minus the value the line predicts. Plotting residuals "
        "against x shows whether a straight line fits: a curved pattern means the relation is not linear, and a "
        "spreading funnel means the variance is not constant."),
        ("## R squared\n\nR squared is the share of the variance of y that the line explains, from 0 to 1. A high "
        "R squared does not prove that x causes y: correlation is not causation."),
    ),
    # Web Development Basics
    "html": (
        ("## Elements and tags\n\nHTML describes the structure of a web page with elements written as tags: "
        "`<p>` opens a paragraph and `</p>` closes it. Elements nest inside each other, and the whole page sits "
        "inside `<html>`, with `<head>` for metadata and `<body>` for what is shown."),
        ("## Attributes\n\nAttributes add information to an element inside its opening tag: `<a href=\"/about\">` "
        "makes a link to /about, and `<img src=\"cat.png\" alt=\"A cat\">` shows an image with a text "
        "alternative. `id` and `class` attributes name elements for CSS and JavaScript."),
        ("## Semantic elements\n\nSemantic elements say what content is: `<header>`, `<nav>`, `<main>`, "
        "`<article>` and `<footer>`. They help screen readers and search engines understand the page better than "
        "generic `<div>` elements."),
    ),
    "css": (
        ("## Selectors and rules\n\nCSS styles HTML with rules: a selector picks elements and declarations set "
        "their properties, as in `p { color: navy; }`. Selectors match by element name, by class (`.note`) or by "
        "id (`#menu`)."),
        ("## The box model\n\nEvery element is a box of content, padding, border and margin, from the inside out. "
        "Padding is space inside the border, margin is space outside it. `box-sizing: border-box` makes width "
        "include padding and border."),
        ("## Layout with flexbox and grid\n\n`display: flex` lays children out in a row or column and aligns them "
        "with `justify-content` and `align-items`. `display: grid` places children in rows and columns. Media "
        "queries change the layout for small screens."),
    ),
    "javascript": (
        ("## Variables in JavaScript\n\nJavaScript declares variables with `let` for values that change and "
        "`const` for names that are never reassigned. Values have types such as number, string, boolean, object "
        "and array, but a variable's type is not fixed."),
        ("## Functions in JavaScript\n\nA function is declared with `function add(a, b) { return a + b; }` or "
        "written as an arrow function, `const add = (a, b) => a + b;`. Functions are values: they can be stored in "
        "variables and passed to other functions."),
        ("## Equality\n\n`===` compares value and type without conversion, while `==` converts types first, so "
        "`'1' == 1` is true but `'1' === 1` is false. Prefer `===`."),
    ),
    "dom events": (
        ("## The DOM\n\nThe Document Object Model (DOM) is the browser's tree of objects for the elements of a "
        "page. JavaScript finds elements with `document.querySelector('.note')` and changes their text, "
        "attributes and styles."),
        ("## Listening for events\n\nAn event is something that happens on the page, such as a click or a key "
        "press. `button.addEventListener('click', handler)` runs the handler function each time the button is "
        "clicked; the handler receives an event object describing what happened."),
        ("## Event bubbling\n\nEvents bubble: after firing on the target element they fire on each of its "
        "ancestors. One listener on a parent can therefore handle events of many children (event delegation). "
        "`event.preventDefault()` stops the browser's default action, such as following a link."),
    ),
    "http": (
        ("## Requests and responses\n\nHTTP is the protocol browsers and servers speak. A client sends a request "
        "with a method, a URL, headers and an optional body; the server answers with a status code, headers and "
        "a body."),
        ("## Methods\n\n`GET` reads a resource and should not change anything; `POST` creates or submits; `PUT` "
        "replaces; `DELETE` removes. GET and PUT are idempotent: repeating them has the same effect as doing "
        "them once."),
        ("## Status codes\n\nStatus codes group by their first digit: 2xx success (200 OK, 201 Created), 3xx "
        "redirection, 4xx client errors (400 Bad Request, 401 Unauthorized, 404 Not Found) and 5xx server errors "
        "(500 Internal Server Error)."),
    ),
    "accessibility": (
        ("## Why accessibility matters\n\nAccessibility means people with disabilities can perceive, understand "
        "and use a site, for example with a screen reader or a keyboard only. The Web Content Accessibility "
        "Guidelines (WCAG) describe how."),
        ("## Text alternatives and contrast\n\nEvery meaningful image needs alternative text (`alt`) that says what "
        "it shows. Text needs enough contrast with its background: WCAG asks a ratio of at least 4.5 to 1 for "
        "normal text."),
        ("## Keyboard and labels\n\nEverything that works with a mouse must work with a keyboard, with a visible "
        "focus. Form fields need labels (`<label for=...>`) so a screen reader can announce them."),
    ),
    # Databases and SQL
    "relational model": (
        ("## Tables, rows and columns\n\nThe relational model stores data in tables (relations). Each row is one "
        "record and each column one attribute with a type, such as a student's name or enrolment date."),
        ("## Keys\n\nA primary key identifies each row uniquely, such as `student_id`. A foreign key is a column "
        "that refers to the primary key of another table, linking for example an enrolment to its student."),
        ("## Normalisation\n\nNormalisation organises tables so that each fact is stored once, which avoids "
        "update anomalies. Repeating groups move to their own table, linked back by a foreign key."),
    ),
    "select queries": (
        ("## SELECT and FROM\n\n`SELECT name, email FROM students;` reads the name and email columns of every row "
        "of the students table. `SELECT *` reads every column."),
        ("## Filtering with WHERE\n\n`WHERE` keeps only the rows that match a condition: `SELECT * FROM students "
        "WHERE year = 2;`. Conditions combine with `AND`, `OR` and `NOT`; `LIKE 'A%'` matches text patterns and "
        "`IS NULL` finds missing values."),
        ("## Sorting and limiting\n\n`ORDER BY score DESC` sorts the result from the highest score down, and "
        "`LIMIT 10` keeps the first ten rows. `DISTINCT` removes duplicate rows."),
    ),
    "joins": (
        ("## Inner joins\n\nA join combines rows of two tables that match on a condition, usually a foreign key: "
        "`SELECT * FROM enrolments JOIN students ON enrolments.student_id = students.id`. An inner join keeps "
        "only the rows that have a match in both tables."),
        ("## Outer joins\n\nA left join keeps every row of the left table and fills the right table's columns "
        "with NULL where there is no match, which is how you find students with no enrolment. A full outer join "
        "keeps unmatched rows of both sides."),
        ("## Join pitfalls\n\nJoining on a column that is not unique multiplies rows, and forgetting the join "
        "condition gives a cross join of every pair of rows. Qualify column names with their table when both "
        "tables have a column of that name."),
    ),
    "aggregation": (
        ("## Aggregate functions\n\nAggregate functions summarise many rows in one value: `COUNT(*)`, `SUM`, "
        "`AVG`, `MIN` and `MAX`. `SELECT AVG(score) FROM results;` gives the mean score of all results."),
        ("## GROUP BY\n\n`GROUP BY` computes an aggregate per group: `SELECT course_id, COUNT(*) FROM enrolments "
        "GROUP BY course_id;` counts the enrolments of each course."),
        ("## HAVING\n\n`HAVING` filters groups after aggregation, as `WHERE` filters rows before it: `HAVING "
        "COUNT(*) > 10` keeps only the courses with more than ten enrolments."),
    ),
    "indexes": (
        ("## What an index does\n\nAn index is a separate data structure, usually a B-tree, that lets the database "
        "find rows by a column's value without reading the whole table, like the index at the back of a book."),
        ("## The cost of indexes\n\nIndexes speed up reads but slow down writes, because every insert, update and "
        "delete must also update each index, and they take disk space. Index the columns you filter and join "
        "on, not every column."),
        ("## Reading a query plan\n\n`EXPLAIN` shows how the database will run a query: whether it scans the whole "
        "table or uses an index. A full scan on a large table in a frequent query is a sign that an index is "
        "missing."),
    ),
    "transactions": (
        ("## What a transaction is\n\nA transaction groups statements so that they take effect together or not at "
        "all. `BEGIN`, then the statements, then `COMMIT` makes the changes permanent; `ROLLBACK` undoes them."),
        ("## ACID\n\nTransactions are atomic (all or nothing), consistent (constraints hold), isolated (concurrent "
        "transactions do not see each other's partial work) and durable (committed changes survive a crash)."),
        ("## Isolation levels\n\nIsolation levels trade safety for concurrency. Read committed never shows "
        "uncommitted data; repeatable read also keeps rows stable within a transaction; serializable makes "
        "concurrent transactions behave as if run one after another."),
    ),
    # Machine Learning 101
    "features": (
        ("## What a feature is\n\nA feature is a measurable input a model learns from, such as a learner's number "
        "of sessions last week. The label is what the model predicts. Good features carry information about the "
        "label that is available at prediction time."),
        ("## Encoding features\n\nModels need numbers: categorical features are one-hot encoded (one column per "
        "category) and text becomes counts or embeddings. Scaling features to similar ranges helps models that "
        "use distances or gradients."),
        ("## Feature leakage\n\nLeakage is a feature that contains information about the label that would not be "
        "known when the prediction is made, such as a value recorded after the outcome. It makes a model look "
        "far better in evaluation than in use."),
    ),
    "train test split": (
        ("## Why split the data\n\nA model is judged on data it did not learn from. The training set fits the "
        "model; the test set, held out until the end, estimates how well it will do on new data."),
        ("## Validation sets and cross-validation\n\nA validation set, separate from the test set, is used to choose "
        "hyperparameters. K-fold cross-validation splits the training data into k parts and trains k times, each "
        "time validating on a different part."),
        ("## Splitting by time and by group\n\nWhen data have an order in time, train on the past and test on the "
        "future. When one learner has many rows, keep all of a learner's rows on one side of the split, or the "
        "test set repeats what training saw."),
    ),
    "linear models": (
        ("## Linear regression as a model\n\nA linear model predicts a weighted sum of the features plus an "
        "intercept. Training chooses the weights that minimise the squared error on the training data."),
        ("## Logistic regression\n\nLogistic regression passes the weighted sum through the sigmoid function to "
        "give a probability between 0 and 1, which makes it a classifier. Each weight says how a feature moves "
        "the log-odds of the positive class."),
        ("## Regularisation\n\nRegularisation adds a penalty on large weights to the loss: L2 (ridge) shrinks all "
        "weights, L1 (lasso) pushes some to exactly zero. It reduces overfitting when features are many."),
    ),
    "decision trees": (
        ("## How a decision tree predicts\n\nA decision tree asks a sequence of yes/no questions about the "
        "features, such as 'sessions last week < 2?', and each leaf gives a prediction. Trees handle mixed "
        "feature types and are easy to read."),
        ("## Growing a tree\n\nA tree is grown by choosing, at each node, the split that best separates the "
        "labels, measured by Gini impurity or entropy for classification. Limiting the depth or the leaf size "
        "stops it from memorising the training data."),
        ("## Ensembles of trees\n\nRandom forests average many trees grown on random samples of rows and features. "
        "Gradient boosting adds small trees one at a time, each correcting the errors of the ones before."),
    ),
    "overfitting": (
        ("## What overfitting is\n\nOverfitting is when a model learns the noise of its training data rather than "
        "the pattern: it scores well on training data and badly on new data. Underfitting is the opposite: the "
        "model is too simple to capture the pattern."),
        ("## Spotting overfitting\n\nCompare training and validation scores: a large gap means overfitting. A "
        "learning curve, the scores against the training set size, shows whether more data would help."),
        ("## Preventing overfitting\n\nUse more data, a simpler model, regularisation, early stopping or, for "
        "trees, limits on depth. Choose these settings on validation data, never on the test set."),
    ),
    "evaluation metrics": (
        ("## Accuracy, precision and recall\n\nAccuracy is the share of predictions that are right, misleading when "
        "one class is rare. Precision is the share of predicted positives that are positive; recall is the share "
        "of actual positives that are found."),
        ("## ROC AUC\n\nThe ROC curve plots the true positive rate against the false positive rate as the "
        "threshold moves. Its area (AUC) is the probability that a random positive is scored above a random "
        "negative: 0.5 is chance and 1 perfect."),
        ("## Errors of regression\n\nFor numeric predictions the mean absolute error averages the size of the "
        "errors; the root mean squared error weighs large errors more."),
    ),
    # Calculus I
    "limits": (
        ("## The idea of a limit\n\nThe limit of f(x) as x approaches a is the value f(x) gets close to when x is "
        "close to a, whether or not f(a) itself is defined. It is written lim x→a f(x) = L."),
        ("## One-sided limits\n\nA one-sided limit approaches a from the left or from the right only. The limit "
        "exists when both one-sided limits exist and are equal."),
        ("## Continuity\n\nA function is continuous at a when f(a) is defined and equals the limit of f(x) as x "
        "approaches a. Polynomials are continuous everywhere."),
    ),
    "derivatives": (
        ("## What a derivative is\n\nThe derivative of f at x is the instantaneous rate of change of f: the slope "
        "of the tangent line, defined as the limit of (f(x + h) - f(x)) / h as h approaches 0."),
        ("## The power rule\n\nThe derivative of x^n is n x^(n-1), so the derivative of x^3 is 3x^2. The "
        "derivative of a constant is 0, and derivatives of sums are sums of derivatives."),
        ("## Product and quotient rules\n\nThe derivative of f g is f' g + f g'. The derivative of f / g is "
        "(f' g - f g') / g^2."),
    ),
    "chain rule": (
        ("## The chain rule\n\nThe chain rule differentiates a composition: the derivative of f(g(x)) is "
        "f'(g(x)) times g'(x), the outer derivative at the inner function times the inner derivative."),
        ("## Using the chain rule\n\nFor (3x + 1)^5 the outer function is u^5 and the inner is 3x + 1, so the "
        "derivative is 5(3x + 1)^4 · 3 = 15(3x + 1)^4."),
        ("## Implicit differentiation\n\nImplicit differentiation applies the chain rule to equations such as "
        "x^2 + y^2 = 1, treating y as a function of x: 2x + 2y y' = 0, so y' = -x / y."),
    ),
    "optimisation": (
        ("## Critical points\n\nTo find the maximum or minimum of a function, find its critical points, where the "
        "derivative is zero or undefined. Extremes on a closed interval occur at critical points or at the "
        "endpoints."),
        ("## The second derivative test\n\nAt a critical point, a positive second derivative means a local minimum "
        "(the curve is concave up) and a negative one a local maximum."),
        ("## Optimisation problems\n\nWrite the quantity to optimise as a function of one variable using the "
        "constraint, differentiate, set the derivative to zero, and check that the answer is a maximum or "
        "minimum and lies in the allowed range."),
    ),
    "integrals": (
        ("## Antiderivatives\n\nAn antiderivative of f is a function F whose derivative is f. The antiderivative "
        "of x^n is x^(n+1) / (n + 1) + C for n ≠ -1; the constant C appears because constants differentiate to "
        "zero."),
        ("## The definite integral\n\nThe definite integral of f from a to b is the signed area between the curve "
        "and the x-axis, the limit of Riemann sums of rectangles as their width shrinks to zero."),
        ("## Substitution\n\nIntegration by substitution reverses the chain rule: set u to an inner function, "
        "replace du = u'(x) dx, and integrate in u."),
    ),
    "fundamental theorem": (
        ("## The fundamental theorem of calculus\n\nThe fundamental theorem of calculus links derivatives and "
        "integrals: if F is an antiderivative of f, then the integral of f from a to b equals F(b) - F(a)."),
        ("## Accumulation functions\n\nThe second part says the derivative of the accumulated area, the integral "
        "of f from a to x, is f(x): integrating then differentiating gives back the function."),
        ("## Using the theorem\n\nTo compute the integral of 2x from 1 to 3, take the antiderivative x^2 and "
        "evaluate: 9 - 1 = 8."),
    ),
}


def lesson_body(title: str, skill: str, lesson: int, lessons: int) -> str:
    """The Markdown of lesson ``lesson`` (from 0) of the ``lessons`` a course has on ``skill``: its
    title, then the skill's parts taken in turn (lesson 0 gets parts 0, n, 2n...; with more lessons
    than parts, the parts come round again)."""
    parts = LESSONS.get(skill)
    if not parts:
        return f"{title}."
    mine = parts[lesson::lessons] if lesson < len(parts) else (parts[lesson % len(parts)],)
    return "\n\n".join([f"# {title}", *mine]) + "\n"
