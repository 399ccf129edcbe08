// A program the fake compiler treats as the line below says.
// FAKE: exit 2
int main() { return 0; }
