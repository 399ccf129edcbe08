// A program the fake compiler treats as the line below says.
// FAKE: bad-output
int main() { return 0; }
