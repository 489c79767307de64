namespace SaGatSr.Cli;

public static class Program
{
    public static int Main(string[] args)
    {
        Console.WriteLine("sagatsr: under construction");
        return 0;
    }
}
