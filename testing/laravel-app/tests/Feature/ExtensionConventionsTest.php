<?php

/**
 * The extension follows PHP's conventions: the checked-in php-ext/dbsync.stub.php declares exactly what the loaded
 * extension has (and is what `cargo php stubs` generates now), `php --ri dbsync` shows the version and build
 * features, and parameter names are the documented ones, so named arguments work.
 */

declare(strict_types=1);

namespace Tests\Feature;

use DbSync\Consumer;
use DbSync\Supervisor;
use Symfony\Component\Process\Process;
use Tests\TestCase;

final class ExtensionConventionsTest extends TestCase
{
    private const STUB = self::REPO . '/php-ext/dbsync.stub.php';

    /** Prints the signatures of every class and function a file or the extension declares, as JSON. */
    private const DUMP = <<<'PHP'
        $classes = $argv[1] === 'ext' ? array_keys((new ReflectionExtension('dbsync'))->getClasses())
            : array_values(array_filter(get_declared_classes(), fn ($c) => str_starts_with($c, 'DbSync\\')));
        $functions = $argv[1] === 'ext' ? array_keys((new ReflectionExtension('dbsync'))->getFunctions())
            : array_values(array_filter(get_defined_functions()['user'], fn ($f) => str_starts_with($f, 'dbsync\\')));
        $sig = fn (ReflectionFunctionAbstract $f) => ($f->getReturnType() ?? 'none') . ' (' . implode(', ', array_map(
            fn ($p) => $p->getType() . ' $' . $p->getName() . ($p->isOptional() ? ' = ?' : ''),
            $f->getParameters(),
        )) . ')';
        $out = [];
        foreach ($classes as $class) {
            $r = new ReflectionClass($class);
            $out['class ' . $r->getName()] = 'extends ' . ($r->getParentClass() ? $r->getParentClass()->getName() : '-');
            foreach ($r->getMethods() as $m) {
                if ($m->getDeclaringClass()->getName() === $r->getName() && $m->getName() !== '__construct') {
                    $out[$r->getName() . '::' . $m->getName()] = $sig($m);
                }
            }
        }
        foreach ($functions as $function) {
            $r = new ReflectionFunction($function);
            if (!str_starts_with(strtolower($r->getName()), 'dbsync\testing\\')) {
                $out['function ' . strtolower($r->getName())] = $sig($r);
            }
        }
        ksort($out);
        echo json_encode($out, JSON_PRETTY_PRINT);
        PHP;

    public function testTheStubDeclaresWhatTheExtensionHas(): void
    {
        self::assertFileExists(self::STUB, 'generate it with php-ext/stubs.sh');
        // The stub is loaded by a PHP without the extension (-n: no ini files), else its classes would clash.
        $fromStub = new Process([PHP_BINARY, '-n', '-r', 'require $argv[2];' . self::DUMP, 'stub', self::STUB]);
        $fromStub->mustRun();
        // The child loads the build this process loaded (test-php.sh: -d extension=<that path>).
        $fromExtension = new Process([PHP_BINARY, '-d', 'extension=' . self::loadedFrom(), '-r', self::DUMP, 'ext']);
        $fromExtension->mustRun();

        $extension = json_decode($fromExtension->getOutput(), true, 512, JSON_THROW_ON_ERROR);
        self::assertArrayHasKey('DbSync\Consumer::run', $extension);
        self::assertSame($extension, json_decode($fromStub->getOutput(), true, 512, JSON_THROW_ON_ERROR));
    }

    /** @group integration */
    public function testTheStubIsWhatTheGeneratorProducesNow(): void
    {
        $check = new Process([self::REPO . '/php-ext/stubs.sh', '--check'], null, null, null, 900);
        $check->run();

        self::assertSame(0, $check->getExitCode(), $check->getOutput() . $check->getErrorOutput());
    }

    public function testPhpRiShowsTheVersionAndBuildFeatures(): void
    {
        $ri = new Process([PHP_BINARY, '-d', 'extension=' . self::loadedFrom(), '--ri', 'dbsync']);
        $ri->mustRun();
        $output = $ri->getOutput();

        self::assertMatchesRegularExpression('/^Version => ' . preg_quote(\DbSync\version(), '/') . '$/m', $output);
        self::assertMatchesRegularExpression('/^Build => (debug|release)$/m', $output);
        self::assertMatchesRegularExpression('/^librdkafka => \d+\.\d+\.\d+/m', $output);
        self::assertMatchesRegularExpression('/^librdkafka features => .*\bgzip\b/m', $output);
        self::assertSame(\DbSync\version(), phpversion('dbsync'));
    }

    public function testParameterNamesAreTheDocumentedOnes(): void
    {
        $names = static fn (string $class, string $method): array => array_map(
            static fn (\ReflectionParameter $p): string => $p->getName(),
            (new \ReflectionMethod($class, $method))->getParameters(),
        );

        self::assertSame(['maxEvents', 'timeoutSeconds', 'idleSeconds'], $names(Consumer::class, 'run'));
        self::assertSame(['intervalSeconds', 'timeoutSeconds'], $names(Supervisor::class, 'run'));
    }

    public function testNamedArgumentsWork(): void
    {
        $supervisor = new Supervisor(['connect_url' => 'http://127.0.0.1:1']);

        // A named argument skips the optional one before it; the extension checks the value it received.
        try {
            $supervisor->run(timeoutSeconds: -1.0, intervalSeconds: 1.0);
            self::fail('no ValueError for a negative $timeoutSeconds');
        } catch (\ValueError $e) {
            self::assertStringContainsString('$timeoutSeconds', $e->getMessage());
        }
    }

    /** @group integration */
    public function testNamedArgumentsOfConsumerRun(): void
    {
        $counters = (new Consumer($this->coreConfig()))->run(maxEvents: 0, idleSeconds: 0.5, timeoutSeconds: 5.0);

        self::assertSame(0, $counters['consumed']);
    }

    /** The build testing/scripts/test-php.sh loads (-d extension=<this path>). */
    private static function loadedFrom(): string
    {
        $path = realpath(self::REPO . '/target/debug/libdbsync.so');
        self::assertIsString($path, 'no debug build of the extension: run testing/scripts/test-php.sh');

        return $path;
    }
}
